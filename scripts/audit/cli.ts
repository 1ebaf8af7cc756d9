// The auditor's command line: arguments, sources, progress bar, human summary or --json.
import { readFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";
import cliProgress from "cli-progress";
import type { Hex } from "viem";
import { readChainFacts } from "../../audit/chain-facts.ts";
import { EXIT, EXIT_DESCRIPTIONS } from "../../audit/codes.ts";
import { Auditor, type AuditResult, tallyDifferences } from "../../audit/core.ts";
import { auditReceipt, type ReceiptAudit, receiptIndex, receiptKeyJwk } from "../../audit/receipts.ts";
import { DEFAULT_SPILL_KEYS, spillingAuditState } from "../../audit/spill.node.ts";
import { exportLinesFromTiles, TilesError, witnessPolicy } from "../../audit/tiles.ts";
import { ChainReadError, chainErrorMessage } from "../../chain/errors.ts";
import { openRegistry, RegistryReader } from "../../chain/reader.ts";
import {
  checkRpcUrl,
  parseTrustRoot,
  type TrustRoot,
  TrustRootError,
  trustedLog,
  trustedLogKey,
} from "../../chain/trust-root.ts";
import {
  bytesToHex,
  type Draft,
  ed25519NoteVerifier,
  type Hex as ProtocolHex,
} from "../../protocol/index.ts";
import { checkedLines } from "./pool.ts";
import {
  type ApiConsultation,
  apiChunks,
  apiConsultation,
  apiResponse,
  draftFromFile,
  draftFromUri,
  fileChunks,
  responseFromFile,
  SourceError,
  tallyFromUri,
} from "./sources.ts";

export function helpText(): string {
  const codes = Object.entries(EXIT)
    .map(
      ([kind, code]) =>
        `  ${String(code).padStart(2)}  ${kind.padEnd(14)} ${EXIT_DESCRIPTIONS[kind as keyof typeof EXIT]}`,
    )
    .join("\n");
  return `Gopy auditor: recomputes a consultation's log, tally and draft hash from its export and checks
them against the ConsultationRegistry on chain.

Usage:
  npm run audit -- --trust-root <file.json> --api <url> --consultation <id>
  npm run audit -- --trust-root <file.json> --tiles <url> --draft <file.json> --consultation <id>
  npm run audit -- --contract <addr> --rpc <url> --export <file.ndjson> --consultation <id> [--draft <file.json>]

The chain (one of these is required; the registry is never taken from the service, which could point the
audit at a look-alike contract):
  --trust-root <file>   a trust root {"v":1,"chainId","registry","rpcUrls":[...]}: the chain id every RPC must
                        serve, the registry, and the RPCs, which must all agree
  --contract <addr>     the ConsultationRegistry address, with
  --rpc <url>           an EVM JSON-RPC endpoint; repeat it or give a comma list: several must agree
  --from-block <n>      first block to search for the registry's events (default 0)

Sources:
  --api <url>           the Gopy service (export and draft are read from it)
  --export <file>       a downloaded export (NDJSON {index, leaf, leafHash, text?, salt?, withheld?})
  --tiles <url>         a C2SP tiles base of the log (the service's /logs/<id>/ or a mirror made by npm run tiles):
                        the entries are read from its entry bundles (texts are not in tiles, so not checked);
                        with a trust root naming the log key, its checkpoint signature is checked too
  --consultation <id>   the consultation's id in the registry (required)
  --draft <file.json>   the draft {title, summary, sections:[{id,title,text}]}; default: with --api the
                        service's current draft, otherwise the document at the chain's draftURI.
                        Either way its hash must equal the draftHash on chain.
  --receipt <file>      a citizen's receipt (JSON, v1 or v2; repeat for several): after the audit it is verified
                        (v1 with the registry's receipt keys; v2 with the trust root's log key, so --trust-root
                        naming "log") and its leaf must be at its index in the audited log; one line per receipt
  --response <file>     the agency's response document (its exact bytes); default: with --api the service's
                        latest (GET /api/consultations/:id/response), none otherwise. Its SHA-256 must equal
                        the registry's latest responseHash and it must answer every article of the final draft.

Checks: every leaf hash (strict entry decoding), the root at every LogAnchored size and the consistency of
each anchored step, contentHash where text and salt are public, withheld texts and their moderation entries,
submittedAt within the chain's opensAt..closesAt, one live opinion per author and section (replaces), the
tally against TallyPublished, the draft hash against the chain, and the counted map (each author's latest
opinion per section) against the countedRoot anchored with every head ("not checkable" on a registry
that records none).

Output:
  --json                one JSON document on stdout instead of the human summary
  --final               also fail (not-final) unless the tally is published and every entry anchored
  --progress / --no-progress   force or hide the progress bar on stderr (default: shown on a terminal)
  --max-examples <n>    messages kept per kind of failure (default 20)
  --workers <n>         worker threads for the per-line checks (default: one fewer than the CPUs, 1 to 3: the
                        auditor's own thread is busy too; 0: none)
  --memory-keys <n>     (author, section) keys kept in memory (default ${DEFAULT_SPILL_KEYS}); past that the
                        audit's state moves to a temporary SQLite file, so memory stays bounded at any size
  -h, --help            this text

Exit codes (when several kinds of failure occur, the smallest code; --json lists them all):
${codes}
`;
}

class UsageError extends Error {}

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  stderrIsTty: boolean;
}

const defaultIo: CliIo = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  stderrIsTty: process.stderr.isTTY === true,
};

/** Runs the CLI; resolves to the exit code. */
export async function runCli(argv: readonly string[], io: CliIo = defaultIo): Promise<number> {
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    values = parseArgs({
      args: [...argv],
      options: {
        api: { type: "string" },
        export: { type: "string" },
        tiles: { type: "string" },
        consultation: { type: "string" },
        rpc: { type: "string", multiple: true },
        "trust-root": { type: "string" },
        contract: { type: "string" },
        draft: { type: "string" },
        response: { type: "string" },
        receipt: { type: "string", multiple: true },
        "from-block": { type: "string" },
        json: { type: "boolean" },
        final: { type: "boolean" },
        progress: { type: "boolean" },
        "no-progress": { type: "boolean" },
        "max-examples": { type: "string" },
        workers: { type: "string" },
        "memory-keys": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    io.stderr(`${(error as Error).message}\n\n${helpText()}`);
    return EXIT.usage;
  }
  if (values.help) {
    io.stdout(helpText());
    return EXIT.ok;
  }
  try {
    const result = await audit(values, io);
    io.stdout(values.json ? `${JSON.stringify(result, null, 2)}\n` : summary(result));
    return result.exitCode;
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`${error.message}\n(see --help)\n`);
      return EXIT.usage;
    }
    if (error instanceof SourceError || error instanceof ChainReadError) {
      const message = chainErrorMessage(error);
      if (values.json) io.stdout(`${JSON.stringify({ ok: false, exitCode: EXIT.source, error: message })}\n`);
      io.stderr(`source unavailable: ${message}\n`);
      return EXIT.source;
    }
    io.stderr(`internal error: ${(error as Error).stack ?? String(error)}\n`);
    return EXIT.internal;
  }
}

/**
 * The registry reader from --trust-root, or from --contract and --rpc (checked: each RPC answers, serves the
 * trust root's chain, holds code at the registry), and the chain id it reads.
 */
async function chainFromArgs(
  trustRootFile: string | undefined,
  contract: string | undefined,
  rpcArgs: readonly string[],
  fromBlock: bigint | undefined,
): Promise<{ reader: RegistryReader; chainId: number; root?: TrustRoot }> {
  const options = { timeoutMs: 30_000, retryCount: 2, ...(fromBlock !== undefined ? { fromBlock } : {}) };
  if (trustRootFile !== undefined) {
    if (contract !== undefined || rpcArgs.length > 0) {
      throw new UsageError(
        "give --trust-root or --contract with --rpc, not both: the trust root names its registry and RPCs",
      );
    }
    let text: string;
    try {
      text = await readFile(trustRootFile, "utf8");
    } catch (error) {
      throw new UsageError(
        `the trust root file ${trustRootFile} cannot be read: ${(error as Error).message}`,
      );
    }
    let root: ReturnType<typeof parseTrustRoot>;
    try {
      root = parseTrustRoot(text);
    } catch (error) {
      if (error instanceof TrustRootError) throw new UsageError(`${trustRootFile}: ${error.message}`);
      throw error;
    }
    return { reader: await openRegistry(root, options), chainId: root.chainId, root };
  }
  if (contract === undefined) {
    throw new UsageError(
      "give --trust-root <file>, or --contract <addr> with --rpc <url>: the auditor never takes the registry from the service",
    );
  }
  if (!/^0x[0-9a-fA-F]{40}$/.test(contract)) throw new UsageError("--contract must be a 20-byte 0x address");
  const rpcUrls = rpcArgs
    .flatMap((r) => r.split(","))
    .map((r) => r.trim())
    .filter((r) => r !== "");
  if (rpcUrls.length === 0)
    throw new UsageError("--contract needs --rpc <url>: the endpoint to read the registry through");
  try {
    for (const [i, u] of rpcUrls.entries()) checkRpcUrl(u, `--rpc ${i + 1}`);
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/^trust root: /, ""));
  }
  const reader = new RegistryReader({ ...options, registry: contract as Hex, rpcUrls });
  const chainId = await reader.chainId();
  await reader.verify(chainId);
  return { reader, chainId };
}

async function audit(
  values: Record<string, string | boolean | string[] | undefined>,
  io: CliIo,
): Promise<AuditResult> {
  const str = (k: string) => (typeof values[k] === "string" ? (values[k] as string) : undefined);
  const consultation = str("consultation");
  const api = str("api");
  const exportFile = str("export");
  const tiles = str("tiles");
  if (!consultation || !/^[1-9][0-9]{0,77}$/.test(consultation)) {
    throw new UsageError("--consultation <id> is required: the registry id, a decimal number from 1");
  }
  if ([api, exportFile, tiles].filter((x) => x !== undefined).length !== 1)
    throw new UsageError("give exactly one of --api, --export or --tiles");
  if (tiles !== undefined && !/^https?:\/\//.test(tiles))
    throw new UsageError(
      "--tiles must be an http(s) URL: a log's tiles base, e.g. https://mirror.example/logs/7/",
    );
  const fromBlockText = str("from-block");
  if (fromBlockText !== undefined && !/^[0-9]+$/.test(fromBlockText))
    throw new UsageError("--from-block must be a block number");
  const workersOption = str("workers");
  if (workersOption !== undefined && !/^[0-9]{1,2}$/.test(workersOption))
    throw new UsageError("--workers must be a number (0: no worker threads)");
  const memoryKeysText = str("memory-keys");
  if (memoryKeysText !== undefined && !/^[1-9][0-9]{0,9}$/.test(memoryKeysText))
    throw new UsageError("--memory-keys must be a positive number");
  const maxExamplesText = str("max-examples");
  if (maxExamplesText !== undefined && !/^[0-9]+$/.test(maxExamplesText))
    throw new UsageError("--max-examples must be a number");
  const receiptFiles = Array.isArray(values.receipt) ? values.receipt : [];
  const receipts = await Promise.all(receiptFiles.map(readReceiptFile));
  const { reader, chainId, root } = await chainFromArgs(
    str("trust-root"),
    str("contract"),
    Array.isArray(values.rpc) ? values.rpc : [],
    fromBlockText !== undefined ? BigInt(fromBlockText) : undefined,
  );

  let served: ApiConsultation | null = null;
  if (api !== undefined) served = await apiConsultation(api, consultation);
  const facts = await readChainFacts(reader, chainId, consultation);
  if (
    served?.chain &&
    (served.chain.chainId !== facts.chainId || served.chain.contract.toLowerCase() !== facts.contract)
  ) {
    io.stderr(
      `warning: the service points elsewhere (registry ${served.chain.contract} on chain ${served.chain.chainId}); ` +
        `this audit reads registry ${facts.contract} on chain ${facts.chainId}\n`,
    );
  }

  const draftFile = str("draft");
  let draft: Draft;
  if (draftFile !== undefined) draft = await draftFromFile(draftFile);
  else if (served !== null) draft = served.draft;
  else draft = await draftFromUri(facts.draftURI);

  const responseFile = str("response");
  const response =
    responseFile !== undefined
      ? await responseFromFile(responseFile)
      : api !== undefined
        ? await apiResponse(api, consultation)
        : undefined;

  const startedAt = performance.now();
  const auditor = new Auditor(facts, draft, {
    ...(response !== undefined ? { response } : {}),
    final: values.final === true,
    ...(tiles !== undefined ? { textsAbsent: true } : {}),
    state: spillingAuditState(memoryKeysText !== undefined ? { keys: Number(memoryKeysText) } : {}),
    ...(maxExamplesText !== undefined ? { maxExamples: Number(maxExamplesText) } : {}),
  });
  const chunks =
    api !== undefined
      ? await apiChunks(api, consultation)
      : tiles !== undefined
        ? tileChunks(tiles, root, consultation)
        : fileChunks(exportFile as string);
  const workersText = str("workers");
  const workers =
    workersText !== undefined ? Number(workersText) : Math.min(Math.max(availableParallelism() - 1, 1), 3);

  const showProgress = values["no-progress"] ? false : values.progress === true || io.stderrIsTty;
  const bar = showProgress
    ? new cliProgress.SingleBar(
        {
          stream: process.stderr,
          noTTYOutput: !io.stderrIsTty,
          notTTYSchedule: 2000,
          format: "auditing {bar} {percentage}% | {value}/{total} entries | {eta_formatted} left",
          etaBuffer: 50,
          fps: 5,
        },
        cliProgress.Presets.shades_classic,
      )
    : null;
  let total = Math.max(auditor.expectedSize, facts.head.treeSize, 1);
  bar?.start(total, 0);
  // the leaf hashes the receipts name, kept as the log streams by (the auditor itself keeps no leaves)
  const wanted = new Set(receipts.map((r) => receiptIndex(r.receipt)).filter((i) => i !== null));
  const leaves = new Map<number, ProtocolHex>();
  try {
    for await (const block of checkedLines(chunks, auditor.lineContext, workers)) {
      if (wanted.size > 0) {
        for (let i = 0; i < block.count; i++) {
          const index = block.numbers[2 * i]!;
          if (wanted.has(index)) leaves.set(index, bytesToHex(block.hashes.subarray(64 * i, 64 * i + 32)));
        }
      }
      await auditor.acceptBlock(block);
      if (bar) {
        if (auditor.position > total) {
          total = auditor.position;
          bar.setTotal(total);
        }
        bar.update(auditor.position);
      }
    }
  } catch (error) {
    bar?.stop();
    if (error instanceof SourceError) throw error;
    if (error instanceof TilesError) throw new SourceError(error.message);
    throw new SourceError(`the export could not be read to its end: ${(error as Error).message}`);
  }
  let result = await auditor.finish(startedAt);
  if (receipts.length > 0) {
    const keys = await reader.receiptKeys();
    const checked = receipts.map(({ file, receipt }) =>
      auditReceipt(file, receipt, {
        consultation,
        keys: keys.checkable ? keys.keys.map((k) => receiptKeyJwk(k.publicKey)) : [],
        log: root ? trustedLogKey(root) : null,
        leafAt: (i) => (i < result.entries ? leaves.get(i) : undefined),
      }),
    );
    result = withReceipts(result, checked);
  }
  if (facts.tally && result.tally.ok === false && result.tally.document) {
    // Show what differs from the published document, when it can be read.
    try {
      result.tally.differences = tallyDifferences(
        await tallyFromUri(facts.tally.tallyURI),
        result.tally.document,
      );
    } catch (error) {
      result.tally.differences = [`the published tally document is unavailable: ${(error as Error).message}`];
    }
  }
  if (bar) {
    bar.setTotal(Math.max(total, result.entries));
    bar.update(result.entries);
    bar.stop();
  }
  return result;
}

/** A --receipt file, parsed as JSON (a file that cannot be read or is not JSON is a usage error). */
async function readReceiptFile(file: string): Promise<{ file: string; receipt: unknown }> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new UsageError(`the receipt file ${file} cannot be read: ${(error as Error).message}`);
  }
  try {
    return { file, receipt: JSON.parse(text) };
  } catch {
    throw new UsageError(`the receipt file ${file} is not JSON`);
  }
}

/** The audit result with the receipts' verdicts: a refused receipt is a failure of kind "receipt". */
function withReceipts(
  result: AuditResult,
  receipts: ReceiptAudit[],
): AuditResult & { receipts: ReceiptAudit[] } {
  const refused = receipts.filter((r) => !r.ok);
  if (refused.length === 0) return { ...result, receipts };
  const failure = {
    kind: "receipt" as const,
    code: EXIT.receipt,
    count: refused.length,
    examples: refused.map((r) => `${r.source}: ${r.message}`),
  };
  return {
    ...result,
    receipts,
    ok: false,
    exitCode: result.exitCode === 0 ? EXIT.receipt : Math.min(result.exitCode, EXIT.receipt),
    failures: [...result.failures, failure],
  };
}

/** The human summary. */
export function summary(r: AuditResult & { receipts?: ReceiptAudit[] }): string {
  const out: string[] = [];
  const mark = (ok: boolean | null) => (ok === null ? "  -- " : ok ? "  ok " : "FAIL ");
  out.push(
    `Gopy audit of consultation ${r.consultation} (chain ${r.chain.chainId}, registry ${r.chain.contract})`,
  );
  out.push(
    `${r.entries} entries (${r.opinions} opinions, ${r.moderations} moderation) in ${r.seconds.toFixed(2)} s` +
      (r.seconds > 0 ? ` (${Math.round(r.entries / r.seconds)} entries/s)` : ""),
  );
  out.push(
    `window ${new Date(r.window.opensAt * 1000).toISOString()} .. ${new Date(r.window.closesAt * 1000).toISOString()}`,
  );
  out.push("");
  const failed = new Set(r.failures.map((f) => f.kind));
  out.push(`${mark(!failed.has("export-format"))}export format and order`);
  out.push(
    `${mark(!failed.has("entry-invalid"))}entries decode strictly, this consultation, known draft versions`,
  );
  out.push(`${mark(!failed.has("leaf-hash"))}leaf hashes recomputed`);
  const checked = r.anchors.filter((a) => a.computedRoot !== null).length;
  out.push(
    `${mark(!failed.has("root-mismatch"))}roots at ${checked}/${r.anchors.length} anchored sizes, ` +
      `${r.anchors.filter((a) => a.consistency === "ok").length} consistent steps`,
  );
  out.push(
    `${mark(!failed.has("export-length"))}export length (${r.entries}; last anchored ${r.anchors.at(-1)?.treeSize ?? 0}` +
      (r.unanchored > 0 ? `; ${r.unanchored} not anchored yet)` : ")"),
  );
  out.push(
    `${mark(!failed.has("content-hash"))}content hashes: ${r.contentHashes.checked} checked, ${r.contentHashes.withheld} withheld`,
  );
  out.push(`${mark(!failed.has("moderation"))}withheld texts and their moderation entries`);
  out.push(`${mark(!failed.has("time-window"))}submittedAt within opensAt..closesAt`);
  out.push(`${mark(!failed.has("replaces"))}one live opinion per author and section`);
  out.push(
    r.counted.checked === 0 && r.counted.note !== null
      ? `  -- ${r.counted.note}`
      : `${mark(!failed.has("counted"))}counted map at ${r.counted.checked}/${r.anchors.length} anchored heads` +
          (r.counted.note !== null
            ? ` (${r.counted.notCheckable} without countedRoot: ${r.counted.note})`
            : ""),
  );
  out.push(
    r.tally.published
      ? `${mark(r.tally.ok === true && !failed.has("tally"))}tally at size ${r.tally.treeSize}: ${r.tally.computedTallyHash ?? "not recomputable"} vs chain ${r.tally.chainTallyHash}`
      : `${mark(failed.has("not-final") ? false : null)}tally not published yet` +
          (r.tally.computedTallyHash ? ` (tally of the export so far: ${r.tally.computedTallyHash})` : ""),
  );
  out.push(
    `${mark(r.draft.ok)}draft v${r.draft.version}: ${r.draft.computedHash ?? "malformed"} vs chain ${r.draft.chainHash}`,
  );
  out.push(
    !r.response.checkable
      ? "  -- response: not checkable on this registry"
      : r.response.ok === null
        ? `  -- response: ${r.response.version > 0 ? `v${r.response.version} on chain, no document given` : "none published"}`
        : `${mark(r.response.ok)}response v${r.response.version}: ${r.response.computedHash} vs chain ${r.response.chainHash ?? "none"}` +
          (r.response.unanswered.length > 0 ? `; unanswered ${r.response.unanswered.join(", ")}` : ""),
  );
  for (const receipt of r.receipts ?? []) {
    out.push(`${mark(receipt.ok)}receipt ${receipt.source}: ${receipt.message}`);
  }
  if (r.tally.differences && r.tally.differences.length > 0) {
    out.push("");
    out.push("published tally vs recomputed:");
    for (const d of r.tally.differences.slice(0, 30)) out.push(`  ${d}`);
  }
  if (r.tally.document) {
    const t = r.tally.document.totals.total;
    out.push("");
    out.push(`tally: agree ${t.agree}, disagree ${t.disagree}, neutral ${t.neutral}`);
  }
  if (r.withheld.length > 0) {
    out.push("");
    out.push(`withheld texts (${r.withheld.length}):`);
    for (const w of r.withheld.slice(0, 20)) {
      const m = w.moderation.map((x) => `entry ${x.index}: ${x.reason} at ${x.at}`).join("; ");
      out.push(`  leaf ${w.index}: ${m || "NO MODERATION ENTRY"}`);
    }
    if (r.withheld.length > 20) out.push(`  ... and ${r.withheld.length - 20} more (--json lists them all)`);
  }
  if (r.failures.length > 0) {
    out.push("");
    out.push("failures:");
    for (const f of r.failures) {
      out.push(`  [${f.code} ${f.kind}] ${f.count} problem(s)`);
      for (const e of f.examples) out.push(`    - ${e}`);
      if (f.count > f.examples.length) out.push(`    ... ${f.count - f.examples.length} more`);
    }
  }
  out.push("");
  out.push(r.ok ? "RESULT: every check passed (exit 0)" : `RESULT: FAILED (exit ${r.exitCode})`);
  return `${out.join("\n")}\n`;
}

/**
 * Export lines read from a tiles base's entry bundles (no texts: tiles carry the entries only), its checkpoint verified
 * with the trust root's log key when the trust root names one. The tree the auditor recomputes from them is what is
 * compared with the heads on chain, so a mirror that lies is caught as a log that disagrees with the chain.
 */
async function* tileChunks(
  base: string,
  root: TrustRoot | undefined,
  consultation: string,
): AsyncGenerator<Uint8Array> {
  const trusted = root ? trustedLog(root, consultation) : null;
  const verifier = trusted ? ed25519NoteVerifier(trusted.origin, trusted.publicKey) : null;
  const encoder = new TextEncoder();
  const witnesses = verifier && root ? witnessPolicy(root) : null;
  for await (const text of exportLinesFromTiles(base, { verifier, witnesses })) yield encoder.encode(text);
}
