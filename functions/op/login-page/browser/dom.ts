/**
 * The few browser APIs the login script uses, typed here because the project compiles against
 * Node's types only (adding the DOM lib to the program would change the types of server code).
 */

export interface PageElement {
  textContent: string | null;
  hidden: boolean;
  readonly dataset: Record<string, string | undefined>;
  focus(): void;
  addEventListener(type: string, listener: (event: { preventDefault(): void }) => void): void;
}

export interface InputElement extends PageElement {
  value: string;
  checked: boolean;
}

export interface PageDocument {
  getElementById(id: string): PageElement | null;
  querySelectorAll(selectors: string): Iterable<PageElement>;
}

export interface PageSocket {
  send(data: string): void;
  close(): void;
  addEventListener(type: 'open' | 'close', listener: () => void): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
}

export interface PageNavigator {
  readonly userAgent: string;
  readonly permissions?: { query(descriptor: { name: string }): Promise<{ state: string }> };
}

export interface PageLocation {
  readonly protocol: string;
  assign(url: string): void;
}
