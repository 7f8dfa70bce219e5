// A frontend's journey through Gatehouse with a client generated from /api/schema/
// (openapi-typescript for the types, openapi-fetch for the calls), as .ci/clients runs it:
// register, verify the email, sign in, read and edit the profile, refresh, list sessions,
// make an API key, use it and revoke it, turn an authenticator app on, sign out, sign in
// again with the second factor, sign out everywhere; then one error of each family, read through the typed problem body.
//
// Usage: node build/journey.js BASE_URL OUTBOX_DIR
// Every body and answer is typed by the generated schema: no cast, no `any`, no `as`.

import { createHmac, randomBytes } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";

import createClient from "openapi-fetch";

import type { paths } from "./schema.js";

const [baseUrl = "", outbox = ""] = process.argv.slice(2);
if (baseUrl === "" || outbox === "") {
  throw new Error("usage: node build/journey.js BASE_URL OUTBOX_DIR");
}

// The access token of the session in use; a middleware sends it with every request.
let accessToken: string | undefined;
const api = createClient<paths>({ baseUrl });
api.use({
  onRequest({ request }) {
    if (accessToken !== undefined) {
      request.headers.set("Authorization", `Bearer ${accessToken}`);
    }
    return request;
  },
});

function check(condition: boolean, message: string): asserts condition {
  if (!condition) {
    throw new Error(message);
  }
}

// openapi-fetch answers `{ data }` on a 2xx and `{ error }` (the typed problem body) otherwise.
function ok<Data, Problem>(
  step: string,
  result: { data?: Data; error?: Problem; response: Response },
): Data {
  if (result.data === undefined) {
    throw new Error(`${step}: ${result.response.status} ${JSON.stringify(result.error)}`);
  }
  console.log(`ok   ${step}`);
  return result.data;
}

function noContent(step: string, result: { error?: unknown; response: Response }): void {
  check(
    result.response.status === 204,
    `${step}: ${result.response.status} ${JSON.stringify(result.error)}`,
  );
  console.log(`ok   ${step}`);
}

function failure<Problem>(
  step: string,
  result: { data?: unknown; error?: Problem; response: Response },
  status: number,
): Problem {
  const got = result.response.status;
  check(got === status, `${step}: expected ${status}, got ${got}`);
  check(result.error !== undefined, `${step}: no problem body`);
  console.log(`ok   ${step}: ${status}`);
  return result.error;
}

// The newest verification link mailed to `email`, from the file backend's outbox.
async function verificationKey(email: string): Promise<string> {
  let key: string | undefined;
  for (const name of (await readdir(outbox)).sort()) {
    const messages = (await readFile(join(outbox, name), "utf8")).split(/^-{79}$/m);
    for (const message of messages) {
      const link = /(https?:\/\/\S+\/verify-email\?key=[^\s"<]+)/.exec(message)?.[1];
      if (link !== undefined && message.includes(`\nTo: ${email}\n`)) {
        key = new URL(link).searchParams.get("key") ?? undefined;
      }
    }
  }
  check(key !== undefined, `no verification email to ${email} in ${outbox}`);
  return key;
}

// RFC 6238 (HMAC-SHA1, 6 digits), as an authenticator app computes it.
function totp(secret: string, at: number = Date.now()): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const char of secret.replace(/=+$/, "").toUpperCase()) {
    const value = alphabet.indexOf(char);
    check(value >= 0, `not base32: ${secret}`);
    bits += value.toString(2).padStart(5, "0");
  }
  const key = Buffer.alloc(Math.floor(bits.length / 8));
  for (let index = 0; index < key.length; index++) {
    key[index] = parseInt(bits.slice(index * 8, index * 8 + 8), 2);
  }
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 1000 / 30)));
  const digest = createHmac("sha1", key).update(counter).digest();
  const offset = (digest[digest.length - 1] ?? 0) & 0x0f;
  return String((digest.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, "0");
}

const suffix = randomBytes(4).toString("hex");
const username = `ts_${suffix}`;
const email = `ts_${suffix}@example.com`;
const password = `a TypeScript journey's passphrase ${suffix}`;

// Sign up, then follow the emailed link.
const registered = ok(
  "register",
  await api.POST("/api/v1/auth/register/", {
    body: { username, email, password, display_name: "TS Journey" },
  }),
);
check(!registered.user.email_verified, "a new account's email is not verified yet");
const verified = ok(
  "verify email",
  await api.POST("/api/v1/auth/email/verify/", { body: { key: await verificationKey(email) } }),
);
check(verified.user.email_verified, "the email is verified");

// Sign in: no second factor yet, so the answer carries the tokens.
const firstLogin = ok(
  "login",
  await api.POST("/api/v1/auth/login/", { body: { login: username, password } }),
);
check(!firstLogin.mfa_required, "no second factor is asked for yet");
accessToken = firstLogin.access;
let refreshToken = firstLogin.refresh;
// Kept for later logins from this device: others' failures do not lock it out.
const deviceToken = firstLogin.device_token;

const me = ok("get me", await api.GET("/api/v1/users/me/"));
check(me.username === username && me.email_verified, "me/ is the new, verified account");
const updated = ok(
  "update me",
  await api.PATCH("/api/v1/users/me/", {
    body: { bio: "Generated, not hand-written.", timezone: "Europe/Paris" },
  }),
);
check(updated.timezone === "Europe/Paris", "the profile changed");

// An API key for a script: made with the session, shown once, sent as X-API-Key; it acts
// as its owner within its scopes, and stops working once revoked.
const made = ok(
  "create api key",
  await api.POST("/api/v1/api-keys/", { body: { name: "journey", scopes: ["users:read"] } }),
);
check(made.key.startsWith(`gth_${made.prefix}_`), "a gth_ key, shown once");
const keyApi = createClient<paths>({ baseUrl, headers: { "X-API-Key": made.key } });
const byKey = ok("get me with the key", await keyApi.GET("/api/v1/users/me/"));
check(byKey.username === username, "the key acts as its owner");
const readOnly = failure(
  "write with a read-only key",
  await keyApi.PATCH("/api/v1/users/me/", { body: { bio: "by key" } }),
  403,
);
check(readOnly.code === "insufficient_scope", `insufficient_scope, got ${readOnly.code}`);
const keys = ok("list api keys", await api.GET("/api/v1/api-keys/"));
check(
  keys.count === 1 && keys.results[0]?.prefix === made.prefix && keys.results[0].scopes[0] === "users:read",
  "the key is listed, without its secret",
);
noContent(
  "revoke api key",
  await api.DELETE("/api/v1/api-keys/{key_id}/", { params: { path: { key_id: made.id } } }),
);
const revokedKey = failure("revoked api key", await keyApi.GET("/api/v1/users/me/"), 401);
check(revokedKey.code === "not_authenticated", `not_authenticated, got ${revokedKey.code}`);

const refreshed = ok(
  "refresh",
  await api.POST("/api/v1/auth/token/refresh/", { body: { refresh: refreshToken } }),
);
accessToken = refreshed.access;
refreshToken = refreshed.refresh;

const sessions = ok("list sessions", await api.GET("/api/v1/auth/sessions/"));
check(
  sessions.count === 1 && sessions.results[0]?.current === true,
  "one session, the current one",
);

// Turn an authenticator app on: the code is computed from the secret, as the app would.
const setup = ok("totp setup", await api.POST("/api/v1/auth/mfa/totp/setup/"));
check(setup.otpauth_uri.startsWith("otpauth://totp/"), "an otpauth:// URI");
const confirmed = ok(
  "totp confirm",
  await api.POST("/api/v1/auth/mfa/totp/confirm/", { body: { code: totp(setup.secret) } }),
);
check(confirmed.recovery_codes.length === 10, "ten recovery codes");

noContent("logout", await api.POST("/api/v1/auth/logout/", { body: { refresh: refreshToken } }));
accessToken = undefined;

// Signing in again asks for the second factor. A code is accepted once: the next step's
// code (within the server's one-step tolerance) answers the challenge.
const challenge = ok(
  "login (MFA challenge)",
  await api.POST("/api/v1/auth/login/", {
    body: { login: email, password, device_token: deviceToken },
  }),
);
check(challenge.mfa_required, "the second sign-in asks for a code");
check(challenge.methods.includes("totp"), "the authenticator app is offered");
const secondFactor = ok(
  "login mfa",
  await api.POST("/api/v1/auth/login/mfa/", {
    body: {
      mfa_token: challenge.mfa_token,
      code: totp(setup.secret, Date.now() + 30_000),
      method: "totp",
    },
  }),
);
check(secondFactor.user.mfa_enabled, "the profile says MFA is on");
check(secondFactor.device_token !== "", "a device token with the tokens");
accessToken = secondFactor.access;

const missing = failure(
  "not found",
  await api.DELETE("/api/v1/auth/sessions/{session_id}/", {
    params: { path: { session_id: "00000000-0000-4000-8000-000000000000" } },
  }),
  404,
);
check(missing.code === "not_found", `not_found, got ${missing.code}`);

noContent("logout everywhere", await api.POST("/api/v1/auth/logout/all/"));

// The errors of each family are read through the typed problem body.
const stale = failure("revoked token", await api.GET("/api/v1/users/me/"), 401);
check(stale.code === "token_invalid", `token_invalid, got ${stale.code}`);
accessToken = undefined;

const invalid = failure(
  "validation",
  await api.POST("/api/v1/auth/register/", {
    body: { username: "x", email: "not an address", password: "short" },
  }),
  400,
);
check(invalid.code === "validation_error", `validation_error, got ${invalid.code}`);
// `errors` maps a field to its messages (or, for a nested field, to its own fields).
const emailMessages = invalid.errors?.["email"];
check(Array.isArray(emailMessages) && emailMessages.length > 0, "the email field has its messages");

const anonymous = failure("unauthenticated", await api.GET("/api/v1/users/me/"), 401);
check(anonymous.code === "not_authenticated", `not_authenticated, got ${anonymous.code}`);

// The verification email may be asked for a few times an hour per address.
function resend() {
  return api.POST("/api/v1/auth/email/resend/", { body: { email } });
}
let limited: Awaited<ReturnType<typeof resend>> | undefined;
for (let attempt = 0; attempt < 10 && limited === undefined; attempt++) {
  const answer = await resend();
  if (answer.response.status === 429) {
    limited = answer;
  }
}
check(limited !== undefined, "resending was never rate limited");
const throttled = failure("rate limited", limited, 429);
check(throttled.code === "rate_limited", `rate_limited, got ${throttled.code}`);
const retryAfter = Number(limited.response.headers.get("Retry-After"));
check(retryAfter > 0, "Retry-After says how long to wait");
check(throttled.retry_after === retryAfter, "the problem repeats Retry-After");
console.log(`     Retry-After: ${retryAfter}s`);

console.log("TypeScript journey: done");
