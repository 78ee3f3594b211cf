// The request as the package sees it, whichever adapter it came through.

/** Request headers as Node gives them (lower-case names). */
export type IncomingHeaders = Readonly<Record<string, string | string[] | undefined>>;

/** What a secret resolver can look at to choose a secret (e.g. a store id header or path). */
export interface RequestInfo {
  readonly headers: IncomingHeaders;
  readonly url: string | undefined;
}
