/** Requests the tests make to the service: opening a consultation, withholding, importing. */
import type { FastifyInstance } from "fastify";

export const DRAFT = {
  title: "Dự thảo Luật sửa đổi, bổ sung một số điều của Luật Đất đai",
  summary: "Lấy ý kiến nhân dân về dự thảo.",
  sections: [
    {
      id: "dieu-1",
      title: "Điều 1. Phạm vi điều chỉnh",
      text: "Luật này quy định về chế độ sở hữu đất đai.",
    },
    { id: "dieu-2", title: "Điều 2. Đối tượng áp dụng", text: "Cơ quan nhà nước, người sử dụng đất." },
    {
      id: "dieu-3",
      title: "Điều 3. Giải thích từ ngữ",
      text: "Trong Luật này, các từ ngữ dưới đây được hiểu như sau.",
    },
  ],
};

/** A one-article draft, for tests where the draft's content does not matter. */
export const ONE_ARTICLE = { title: "t", summary: "", sections: [{ id: "a", title: "A", text: "" }] };

/** opensAt/closesAt (unix seconds) for a consultation open from now for `seconds`. */
export function openFor(seconds: number): { opensAt: number; closesAt: number } {
  const now = Math.floor(Date.now() / 1000);
  return { opensAt: now, closesAt: now + seconds };
}

/** The Authorization header for a bearer token. */
export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** POST /api/consultations with `payload` as it is (for tests of what the service refuses). */
export function postConsultation(app: FastifyInstance, token: string, payload: object) {
  return app.inject({ method: "POST", url: "/api/consultations", headers: bearer(token), payload });
}

/** POST …/entries/:index/withhold. */
export function withhold(
  app: FastifyInstance,
  token: string,
  id: number,
  index: number,
  reason = "personal-data",
) {
  const url = `/api/consultations/${id}/entries/${index}/withhold`;
  return app.inject({ method: "POST", url, headers: bearer(token), payload: { reason } });
}

/** POST …/opinions/import with a CSV body (`dryRun`: the preview, ?dryRun=true). */
export function importCsv(app: FastifyInstance, token: string, id: number, csv: string, dryRun = false) {
  const headers = { ...bearer(token), "content-type": "text/csv" };
  return app.inject({
    method: "POST",
    url: `/api/consultations/${id}/opinions/import${dryRun ? "?dryRun=true" : ""}`,
    headers,
    payload: csv,
  });
}

export async function openConsultation(
  app: FastifyInstance,
  agencyToken: string,
  closesInSeconds = 3600,
): Promise<number> {
  const now = Math.floor(Date.now() / 1000);
  const r = await postConsultation(app, agencyToken, {
    ...DRAFT,
    opensAt: now,
    closesAt: now + closesInSeconds,
  });
  if (r.statusCode !== 201) throw new Error(`open: ${r.statusCode} ${r.body}`);
  return (r.json() as { id: number }).id;
}

/** POST …/opinions, with an Idempotency-Key when one is given. */
export function giveOpinion(
  app: FastifyInstance,
  token: string,
  id: number,
  payload: object,
  idempotencyKey?: string,
) {
  const headers =
    idempotencyKey === undefined ? bearer(token) : { ...bearer(token), "idempotency-key": idempotencyKey };
  return app.inject({ method: "POST", url: `/api/consultations/${id}/opinions`, headers, payload });
}

/** A JSON request over real HTTP to the service at `base`: its status and parsed body (null when empty). */
export async function callJson(base: string, method: string, path: string, token?: string, body?: unknown) {
  const r = await fetch(base + path, {
    method,
    headers: {
      ...(token ? bearer(token) : {}),
      ...(body !== undefined ? { "content-type": "application/json" } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : null };
}
