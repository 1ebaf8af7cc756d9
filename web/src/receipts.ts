// Receipts kept in this browser (localStorage), so "my opinions" works without an account or a code.
import type { Receipt } from "../../protocol/index.ts";

const KEY = "gopy.receipts.v1";

export interface StoredReceipt {
  receipt: Receipt;
  savedAt: number;
  /** set once the receipt verified against an anchored head */
  anchored?: { treeSize: number; checkedAt: number };
}

function read(): StoredReceipt[] {
  try {
    const raw = window.localStorage.getItem(KEY);
    const list = raw ? (JSON.parse(raw) as unknown) : [];
    return Array.isArray(list)
      ? (list as StoredReceipt[]).filter((x) => x && typeof x === "object" && x.receipt)
      : [];
  } catch {
    return [];
  }
}

function write(list: StoredReceipt[]): void {
  try {
    window.localStorage.setItem(KEY, JSON.stringify(list));
  } catch {
    // storage full or disabled: the receipt is still on screen and downloadable
  }
}

export function receiptKey(r: Pick<Receipt, "consultation" | "leafIndex">): string {
  return `${r.consultation}/${r.leafIndex}`;
}

export function listReceipts(): StoredReceipt[] {
  return read().sort((a, b) => b.savedAt - a.savedAt);
}

export function getReceipt(consultation: string, index: number): StoredReceipt | undefined {
  return read().find((x) => x.receipt.consultation === consultation && x.receipt.leafIndex === index);
}

export function saveReceipt(receipt: Receipt, now = Date.now()): void {
  const list = read().filter((x) => receiptKey(x.receipt) !== receiptKey(receipt));
  list.push({ receipt, savedAt: now });
  write(list);
}

export function markAnchored(receipt: Receipt, treeSize: number, now = Date.now()): void {
  const list = read();
  const item = list.find((x) => receiptKey(x.receipt) === receiptKey(receipt));
  if (item) {
    item.anchored = { treeSize, checkedAt: now };
    write(list);
  }
}
