// mammoth's self-contained browser build (no types of its own): the one call the console makes.
declare module "mammoth/mammoth.browser.min.js" {
  const mammoth: {
    extractRawText(input: { arrayBuffer: ArrayBuffer }): Promise<{ value: string; messages: unknown[] }>;
  };
  export default mammoth;
}
