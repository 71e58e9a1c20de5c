/** Free loopback ports live in dev/ so that the bench can use them too. */
export { closedPortUrl, freePort } from "../../dev/ports.js";
