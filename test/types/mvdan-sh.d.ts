/** The parts of mvdan-sh 0.10 (the parser behind shfmt, compiled to JavaScript) the tests use. */
declare module "mvdan-sh" {
  export interface ShNode {
    readonly [key: string]: unknown;
  }
  export interface ShParser {
    Parse(src: string, name: string): ShNode;
  }
  export const syntax: {
    LangPOSIX: number;
    Variant(lang: number): unknown;
    NewParser(...options: unknown[]): ShParser;
    Walk(node: ShNode, visit: (node: ShNode | null) => boolean): void;
    NodeType(node: ShNode): string;
  };
}
