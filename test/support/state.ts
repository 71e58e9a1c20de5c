/** The template-backed data directories live in dev/ so that the bench can make one too. */
export { freshDataDir, freshDataDirSync, removeDataDir, templateDir } from "../../dev/dataDir.js";
