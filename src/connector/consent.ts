import type { IncomingMessage, ServerResponse } from "node:http";
import type { Connector } from "./connector.js";
import { approvalHtml, errorHtml, type Lang, pickLang, sendPage, text } from "./page.js";
import type { OwnerPassword } from "./password.js";
import { OWNER } from "./provider.js";

type Interaction = Awaited<ReturnType<Awaited<ReturnType<Connector["provider"]>>["interactionDetails"]>>;

/**
 * The owner's approval page: which client asks (name, client id, where the answer goes), the
 * owner password (compared in constant time, wrong ones counted per address and overall), a form
 * value only this server can make (CSRF), approve or deny. Works without script.
 */
export class ConsentPage {
  constructor(
    private readonly connector: Connector,
    private readonly password: OwnerPassword,
  ) {}

  async show(req: IncomingMessage, res: ServerResponse, uid: string, query: string, address: string): Promise<void> {
    const lang = pickLang(req.headers["accept-language"], query);
    await clientErrorsAsPage(res, lang, async () => {
      const interaction = await this.interaction(req, res, uid, address);
      if (!interaction) return sendPage(res, 400, errorHtml(lang, text(lang).expired));
      await this.form(res, 200, interaction, lang);
    });
  }

  async submit(req: IncomingMessage, res: ServerResponse, uid: string, query: string, form: URLSearchParams, address: string): Promise<void> {
    const lang = pickLang(req.headers["accept-language"], query);
    await clientErrorsAsPage(res, lang, () => this.decide(req, res, uid, form, address, lang));
  }

  private async decide(req: IncomingMessage, res: ServerResponse, uid: string, form: URLSearchParams, address: string, lang: Lang): Promise<void> {
    const t = text(lang);
    const interaction = await this.interaction(req, res, uid, address);
    if (!interaction) return sendPage(res, 400, errorHtml(lang, t.expired));
    if (!(await this.connector.checkFormToken(uid, form.get("csrf") ?? ""))) {
      this.connector.logger.warn({ address, connector: "forged_form" }, "an approval form without this server's form value was refused");
      return sendPage(res, 403, errorHtml(lang, t.forged));
    }
    const provider = await this.connector.provider();
    const clientId = String(interaction.params.client_id);
    if (form.get("decision") === "deny") {
      this.connector.event("denied", { clientId });
      return provider.interactionFinished(
        req,
        res,
        { error: "access_denied", error_description: "The owner declined this connection on the server's page." },
        { mergeWithLastSubmission: false },
      );
    }
    const verdict = this.password.check(address, form.get("password") ?? undefined);
    if (!verdict.ok && !verdict.wrong) {
      const seconds = Math.ceil(verdict.waitMs / 1000);
      return this.form(res, 429, interaction, lang, t.locked(seconds), { "retry-after": String(seconds) });
    }
    if (!verdict.ok) {
      this.connector.event("password_refused", { clientId, address });
      return this.form(res, 401, interaction, lang, t.wrongPassword);
    }
    const grantId = await this.grant(interaction);
    this.connector.event("approved", { clientId });
    await provider.interactionFinished(req, res, { login: { accountId: OWNER, remember: false }, consent: { grantId } }, { mergeWithLastSubmission: false });
  }

  /** The interaction this browser holds (its cookie), if it is the one the page is for. */
  private async interaction(req: IncomingMessage, res: ServerResponse, uid: string, address: string): Promise<Interaction | undefined> {
    const provider = await this.connector.provider();
    try {
      // interactionDetails reads the signed cookie; set the Host it was issued for first.
      this.connector.asSentToPublicUrl(req, address);
      const interaction = await provider.interactionDetails(req, res);
      return interaction.uid === uid ? interaction : undefined;
    } catch {
      return undefined;
    }
  }

  private async form(
    res: ServerResponse,
    status: number,
    interaction: Interaction,
    lang: Lang,
    notice?: string,
    headers: Record<string, string> = {},
  ): Promise<void> {
    const provider = await this.connector.provider();
    const clientId = String(interaction.params.client_id);
    const client = await provider.Client.find(clientId);
    const uid = interaction.uid;
    const action = `${this.connector.urls.approvePath}${uid}`;
    const html = approvalHtml({
      lang,
      clientName: client?.clientName ?? clientId,
      clientId,
      viaDocument: Boolean((client as { clientIdMetadataDocument?: boolean } | undefined)?.clientIdMetadataDocument),
      redirectUri: String(interaction.params.redirect_uri ?? client?.redirectUris?.[0] ?? ""),
      csrf: await this.connector.formToken(uid),
      action: `${action}?lang=${lang}`,
      notice,
      otherLangHref: `${action}?lang=${lang === "en" ? "ja" : "en"}`,
    });
    sendPage(res, status, html, headers);
  }

  /** The owner's grant: the connector resource, and the OpenID scopes the client asked for. */
  private async grant(interaction: Interaction): Promise<string> {
    const provider = await this.connector.provider();
    const clientId = String(interaction.params.client_id);
    const grant = (interaction.grantId ? await provider.Grant.find(interaction.grantId) : undefined) ?? new provider.Grant({ accountId: OWNER, clientId });
    const asked = String(interaction.params.scope ?? "").split(" ");
    const oidc = asked.filter((scope) => scope === "openid" || scope === "offline_access");
    if (oidc.length > 0) grant.addOIDCScope(oidc.join(" "));
    grant.addResourceScope(this.connector.urls.resource, "mcp");
    const grantId = await grant.save();
    const client = await provider.Client.find(clientId);
    await this.connector.approvals.recordApproval({
      clientId,
      name: (client?.clientName ?? clientId).slice(0, 200),
      redirectUris: (client?.redirectUris ?? []).slice(0, 10).map((uri) => uri.slice(0, 500)),
      via: (client as { clientIdMetadataDocument?: boolean } | undefined)?.clientIdMetadataDocument ? "metadata-document" : "registration",
    });
    return grantId;
  }
}

/**
 * oidc-provider's own refusals while the page is built (a client whose metadata document can no
 * longer be fetched: invalid_client) are the request's problem, not the server's: a 400 page.
 */
async function clientErrorsAsPage(res: ServerResponse, lang: Lang, work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (error) {
    const status = (error as { statusCode?: unknown }).statusCode;
    if (typeof status !== "number" || status >= 500 || typeof (error as { error?: unknown }).error !== "string") throw error;
    if (!res.headersSent) sendPage(res, 400, errorHtml(lang, text(lang).clientUnavailable));
  }
}
