import { expect } from "chai";
import {
  base64Encode,
  checkInclusion,
  checkpointText,
  decodeEntryBundle,
  ed25519NoteKey,
  encodeEntryBundle,
  type Hex,
  leafHash,
  MemoryTreeStore,
  MerkleLog,
  openCheckpoint,
  openNote,
  openTiledLog,
  ProtocolError,
  parseCheckpoint,
  parseTilePath,
  parseVerifierKey,
  readEntries,
  signatureLine,
  signCheckpoint,
  signNote,
  type TileId,
  type TileReader,
  tilePath,
  tilesOfTree,
  tileWidthAt,
  utf8Encode,
  verifyConsistency,
} from "../../protocol/index.ts";

const origin = "consult.example.gov.vn/logs/7";
const key = ed25519NoteKey(origin, new Uint8Array(32).fill(7));
const other = ed25519NoteKey("witness.example", new Uint8Array(32).fill(9));
const keyV = parseVerifierKey(key.vkey);
const otherV = parseVerifierKey(other.vkey);

function throwsCode(fn: () => unknown, code: string, message?: RegExp): void {
  try {
    fn();
  } catch (e) {
    expect(e).to.be.instanceOf(ProtocolError);
    expect((e as ProtocolError).code).to.equal(code);
    if (message) expect((e as Error).message).to.match(message);
    return;
  }
  expect.fail("expected a ProtocolError");
}

describe("C2SP signed notes", () => {
  it("matches the signed-note spec's example key id and vkey format", () => {
    // c2sp.org/signed-note: key id = SHA-256(name || 0x0A || 0x01 || key)[:4]
    const v = parseVerifierKey(key.vkey);
    expect(key.vkey).to.match(/^consult\.example\.gov\.vn\/logs\/7\+[0-9a-f]{8}\+[A-Za-z0-9+/]+=*$/);
    expect(v.keyId).to.equal(key.keyId);
    expect(Buffer.from(v.publicKey).toString("hex")).to.equal(Buffer.from(key.publicKey).toString("hex"));
  });

  it('parses a vkey whose base64 key has a "+" of its own', () => {
    let withPlus = 0;
    for (let i = 0; i < 64; i++) {
      const k = ed25519NoteKey("a.example/logs/1", new Uint8Array(32).fill(i));
      if (k.vkey.split("+").length > 3) withPlus++;
      expect(parseVerifierKey(k.vkey).keyId).to.equal(k.keyId);
    }
    expect(withPlus).to.be.greaterThan(0);
  });

  it("Go's note package example verifies (independent vector)", () => {
    // From golang.org/x/mod/sumdb/note's documentation example.
    const vkey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    const note =
      "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
    const opened = openNote(note, [parseVerifierKey(vkey)]);
    expect(opened.text).to.equal(
      "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n",
    );
  });

  it("ignores unknown keys, fails on a bad signature by a known key, needs one known signer", () => {
    const note = signNote("hello\n", [key, other]);
    expect(openNote(note, [keyV]).unknown).to.have.length(1);
    expect(openNote(note, [keyV, otherV]).verified).to.have.length(2);
    throwsCode(
      () => openNote(note, [parseVerifierKey(ed25519NoteKey("x", new Uint8Array(32)).vkey)]),
      "invalid_note",
      /no known key/,
    );
    // a known key's signature over other text
    const forged = `hello\n\n${signatureLine({ name: key.name, keyId: key.keyId, signature: key.sign(utf8Encode("bye\n")) })}`;
    throwsCode(() => openNote(forged, [keyV]), "invalid_note", /does not verify/);
    // an unknown signature line next to a good one is still fine
    const extra = `${note}${signatureLine({ name: "someone", keyId: 1, signature: new Uint8Array(64) })}`;
    expect(openNote(extra, [keyV]).unknown).to.have.length(2);
  });

  it("refuses malformed notes with a reason", () => {
    throwsCode(() => openNote("no blank line\n— a AAAA\n", [keyV]), "invalid_note");
    throwsCode(() => openNote("text\n\n— a !!!\n", [keyV]), "invalid_note", /base64/);
    throwsCode(() => openNote("text\n\n- a AAAAAAA=\n", [keyV]), "invalid_note", /start with/);
    throwsCode(() => signNote("no newline", [key]), "invalid_note");
    throwsCode(() => signNote("tab\there\n", [key]), "invalid_note", /control/);
    throwsCode(() => parseVerifierKey("a+00000000+AQ=="), "invalid_key");
    throwsCode(
      () => parseVerifierKey(key.vkey.replace(/\+[0-9a-f]{8}\+/, "+00000000+")),
      "invalid_key",
      /key id/,
    );
  });
});

describe("C2SP checkpoints", () => {
  const root = leafHash(utf8Encode("x"));
  it("round-trips and is signed by the origin's key", () => {
    const text = checkpointText({ origin, size: 12, rootHash: root, extensions: [] });
    expect(text).to.equal(`${origin}\n12\n${base64Encode(Buffer.from(root.slice(2), "hex"))}\n`);
    const note = signCheckpoint({ origin, size: 12, rootHash: root, extensions: [] }, [key]);
    const opened = openCheckpoint(note, parseVerifierKey(key.vkey), { origin });
    expect(opened.checkpoint).to.deep.equal({ origin, size: 12, rootHash: root, extensions: [] });
    throwsCode(() => openCheckpoint(note, otherV), "invalid_note");
    throwsCode(
      () => openCheckpoint(note, parseVerifierKey(key.vkey), { origin: "other/1" }),
      "invalid_checkpoint",
    );
  });

  it("refuses malformed bodies", () => {
    throwsCode(() => parseCheckpoint(`${origin}\n012\nAAAA\n`), "invalid_checkpoint", /leading zeros/);
    throwsCode(() => parseCheckpoint(`${origin}\n1\nAAAA\n`), "invalid_checkpoint", /32 bytes/);
    throwsCode(() => parseCheckpoint(`${origin}\n1\n`), "invalid_checkpoint");
    throwsCode(
      () => parseCheckpoint(`${origin}\n99999999999999999999\n${"A".repeat(43)}=\n`),
      "invalid_checkpoint",
    );
    expect(parseCheckpoint(`${origin}\n1\n${"A".repeat(43)}=\nextra line\n`).extensions).to.deep.equal([
      "extra line",
    ]);
  });
});

describe("C2SP tiles", () => {
  it("encodes tile paths as the spec does", () => {
    expect(tilePath({ level: 0, index: 1234067, width: 256 })).to.equal("tile/0/x001/x234/067");
    expect(tilePath({ level: 1, index: 5, width: 17 })).to.equal("tile/1/005.p/17");
    expect(tilePath({ level: "entries", index: 0, width: 1 })).to.equal("tile/entries/000.p/1");
    expect(parseTilePath("0/x001/x234/067")).to.deep.equal({ level: 0, index: 1234067, width: 256 });
    expect(parseTilePath("entries/000.p/255")).to.deep.equal({ level: "entries", index: 0, width: 255 });
    for (const bad of [
      "0/1",
      "0/0001",
      "0/x000/001",
      "0/000.p/0",
      "0/000.p/256",
      "0/000.p/007",
      "64/000",
      "-1/000",
      "a/000",
      "00/000",
    ]) {
      throwsCode(() => parseTilePath(bad), "invalid_tile");
    }
  });

  it("knows each tile's width at a size", () => {
    expect(tileWidthAt(0, 0, 300)).to.equal(256);
    expect(tileWidthAt(0, 1, 300)).to.equal(44);
    expect(tileWidthAt(1, 0, 300)).to.equal(1);
    expect(tileWidthAt(1, 0, 255)).to.equal(0);
    expect(tilesOfTree(0)).to.deep.equal([]);
  });

  it("round-trips entry bundles", () => {
    const entries = [utf8Encode("a"), new Uint8Array(0), utf8Encode("Tiếng Việt")];
    expect(
      decodeEntryBundle(encodeEntryBundle(entries), 3).map((e) => Buffer.from(e).toString()),
    ).to.deep.equal(["a", "", "Tiếng Việt"]);
    throwsCode(() => decodeEntryBundle(Uint8Array.from([0, 5, 1]), 1), "invalid_tile");
    throwsCode(() => decodeEntryBundle(encodeEntryBundle(entries), 2), "invalid_tile");
  });

  // Tiles served from a MerkleLog's own store: proofs from tiles must equal the log's proofs at every size.
  async function build(n: number) {
    const store = new MemoryTreeStore();
    const log = new MerkleLog(store);
    const entries = Array.from({ length: n }, (_, i) => utf8Encode(`{"i":${i}}`));
    await log.appendBatch(entries.map((e) => leafHash(e)));
    const reads: string[] = [];
    const reader = (size: number): TileReader => ({
      readTile: async (tile: TileId) => {
        reads.push(tilePath(tile));
        const width = tileWidthAt(tile.level, tile.index, size);
        if (tile.width !== width) throw new Error(`tile ${tilePath(tile)} does not exist at size ${size}`);
        if (tile.level === "entries")
          return encodeEntryBundle(entries.slice(tile.index * 256, tile.index * 256 + width));
        const ids = Array.from({ length: width }, (_, i) => ({
          level: (tile.level as number) * 8,
          index: tile.index * 256 + i,
        }));
        return Buffer.concat(store.getNodes(ids));
      },
    });
    return { log, entries, reader, reads };
  }

  for (const size of [1, 2, 255, 256, 257, 511, 70000]) {
    it(`computes the same root and proofs from tiles at size ${size}`, async () => {
      const { log, entries, reader } = await build(size);
      const root = await log.root(size);
      const { log: tiled } = await openTiledLog(reader(size), size, root);
      const samples = [0, size - 1, Math.floor(size / 2), Math.min(size - 1, 256)];
      for (const i of samples) {
        const proof = await tiled.inclusionProof(i, size);
        expect(proof).to.deep.equal(await log.inclusionProof(i, size));
        expect(checkInclusion(leafHash(entries[i]!), i, size, proof, root).ok).to.equal(true);
      }
      for (const old of [1, Math.floor(size / 3), size - 1].filter((s) => s > 0 && s < size)) {
        const proof = await tiled.consistencyProof(old, size);
        expect(proof).to.deep.equal(await log.consistencyProof(old, size));
        expect(verifyConsistency(old, size, proof, await log.root(old), root)).to.equal(true);
      }
      const read = await readEntries(reader(size), size, size - 1, size);
      expect(Buffer.from(read[0]!).toString()).to.equal(`{"i":${size - 1}}`);
    });
  }

  it("refuses tiles that do not hash to the root", async () => {
    const { log, reader } = await build(300);
    const good = reader(300);
    const evil: TileReader = {
      readTile: async (t) => {
        const bytes = Uint8Array.from(await good.readTile(t));
        if (t.level === 0 && t.index === 1) bytes[0]! ^= 1;
        return bytes;
      },
    };
    try {
      await openTiledLog(evil, 300, await log.root(300));
      expect.fail("expected a refusal");
    } catch (e) {
      expect((e as ProtocolError).code).to.equal("invalid_tile");
    }
    const wrongRoot = `0x${"00".repeat(32)}` as Hex;
    try {
      await openTiledLog(good, 300, wrongRoot);
      expect.fail("expected a refusal");
    } catch (e) {
      expect((e as Error).message).to.match(/do not hash to its root/);
    }
  });
});

describe("C2SP worked example (docs/PROTOCOL.md section 11.4)", () => {
  it("gives the documented vkey, checkpoint, tiles and bundle", async () => {
    const k = ed25519NoteKey("consult.example.gov.vn/logs/7", new Uint8Array(32).fill(7));
    expect(k.vkey).to.equal(
      "consult.example.gov.vn/logs/7+ce05152a+AepKbGPinFIKvvVQexMuxfmVR3auvr57kkIe6mkURtIs",
    );
    expect(Buffer.from(k.publicKey).toString("base64")).to.equal(
      "6kpsY+KcUgq+9VB7Ey7F+ZVHdq6+vnuSQh7qaRRG0iw=",
    );
    const log = new MerkleLog();
    const entries = ["a", "b", "c"].map((s) => utf8Encode(s));
    await log.appendBatch(entries.map((e) => leafHash(e)));
    const rootHash = await log.root();
    expect(rootHash).to.equal("0x36642e73c2540ab121e3a6bf9545b0a24982cd830eb13d3cd19de3ce6c021ec1");
    expect(signCheckpoint({ origin: k.name, size: 3, rootHash, extensions: [] }, [k])).to.equal(
      "consult.example.gov.vn/logs/7\n3\nNmQuc8JUCrEh46a/lUWwokmCzYMOsT080Z3jzmwCHsE=\n\n" +
        "— consult.example.gov.vn/logs/7 zgUVKnqv59P638vkHgGvcwYq8+vxKs+EzsvNQRMW5ZzuEwrqpKdV0c6MQ2ZWDSXHyWG9GAzRPVkgWAKKdITthiaIuwA=\n",
    );
    expect(tilesOfTree(3).map(tilePath)).to.deep.equal(["tile/0/000.p/3", "tile/entries/000.p/3"]);
    const big = tilesOfTree(70000);
    expect(big).to.have.length(551);
    expect(big.filter((t) => t.width < 256).map(tilePath)).to.deep.equal([
      "tile/0/273.p/112",
      "tile/entries/273.p/112",
      "tile/1/001.p/17",
      "tile/2/000.p/1",
    ]);
    expect(Buffer.from(encodeEntryBundle(entries.slice(0, 2))).toString("hex")).to.equal("000161000162");
  });
});
