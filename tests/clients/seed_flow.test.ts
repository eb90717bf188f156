// The generated TypeScript client drives the seed flow through the local stack (BASE_URL).
// Compiled with the client by tests/clients/test_typescript_client.py, run with `node --test`.
import assert from "node:assert/strict";
import { test } from "node:test";
import { WebPubSubClient } from "@azure/web-pubsub-client";
import WebSocket from "ws";
import { ChannelCallError, connect, guestToken } from "../../clients/typescript/api.js";
import type { ConnectOptions, JobProcessing, RoomMessage, Welcome } from "../../clients/typescript/api.js";

const base = process.env.BASE_URL ?? "";
// "plain", "json.webpubsub.azure.v1", or "sdk": @azure/web-pubsub-client (the reliable protocol)
const PROTOCOL = process.env.WPS_PROTOCOL ?? "plain";
const room = `room-ts-${Math.random().toString(16).slice(2, 10)}`;
const options: ConnectOptions =
  PROTOCOL === "sdk"
    ? { webPubSubClient: (getClientAccessUrl) => new WebPubSubClient({ getClientAccessUrl }), minDelayMs: 50 }
    : { WebSocket, protocol: PROTOCOL as ConnectOptions["protocol"], minDelayMs: 50 };

function next<T>(subscribe: (handler: (frame: T) => void) => () => void): Promise<T> {
  return new Promise((resolve) => {
    const off = subscribe((frame) => {
      off();
      resolve(frame);
    });
  });
}

test("the seed flow: negotiate, welcome, authenticate, sendMessage reaches another member, history", async () => {
  const ann = await guestToken(base, { name: "ann" });
  const bob = await guestToken(base, { name: "bob" });
  const annClient = await connect(base, "chat", { room }, options);
  const bobClient = await connect(base, "chat", { room }, options);
  try {
    assert.equal(annClient.welcome.welcome, `Welcome to ${room}!`);
    assert.equal((await annClient.authenticate({ token: ann.token })).authenticated, true);
    assert.equal((await bobClient.authenticate({ token: bob.token })).authenticated, true);
    const heard = next<RoomMessage>((h) => bobClient.on("message", h));
    const sent = await annClient.sendMessage({ message: "hello bob" });
    assert.equal(sent.message, "hello bob");
    const got = await heard;
    assert.deepEqual([got.message, got.userId, got.timestamp], ["hello bob", ann.userId, sent.timestamp]);
    const history = await bobClient.history({ limit: 10 });
    assert.deepEqual(history.messages.map((m) => [m.userId, m.message]), [[ann.userId, "hello bob"]]);
  } finally {
    annClient.close();
    bobClient.close();
  }
});

test("a failed call rejects with the typed error", async () => {
  const client = await connect(base, "chat", { room }, options);
  try {
    await assert.rejects(client.sendMessage({ message: "not yet" }), (error: unknown) => {
      assert.ok(error instanceof ChannelCallError);
      assert.deepEqual([error.errorName, error.status, error.action], ["UnauthorizedError", 401, "sendMessage"]);
      return true;
    });
  } finally {
    client.close();
  }
});

test("two concurrent calls of one action each get their own reply", async () => {
  const { token } = await guestToken(base, { name: "cat" });
  const client = await connect(base, "chat", { room }, { ...options, token });
  try {
    const texts = ["one", "two", "three", "four"];
    const replies = await Promise.all(texts.map((message) => client.sendMessage({ message })));
    assert.deepEqual(replies.map((r) => r.message), texts);
  } finally {
    client.close();
  }
});

test("an action's pushed frames reach their handler before its reply", async () => {
  const { token } = await guestToken(base, { name: "dan" });
  const client = await connect(base, "chat", { room }, { ...options, token });
  try {
    const steps: JobProcessing[] = [];
    client.on("processing", (frame) => steps.push(frame));
    const done = await client.processJob({ jobId: "job-1" });
    assert.deepEqual(steps.map((s) => s.step), ["Loading data", "Processing"]);
    assert.ok(done.type === "complete"); // the output is the union of what it sends
    assert.deepEqual(done.result, { jobId: "job-1", items: 5 });
  } finally {
    client.close();
  }
});

test("a dropped socket reconnects and is authenticated again by the token", async () => {
  const { token } = await guestToken(base, { name: "fay" });
  const client = await connect(base, "chat", { room }, { ...options, token });
  try {
    await client.sendMessage({ message: "before" });
    const reconnected = next((h) => client.on("reconnected", h));
    const welcomed = next<Welcome>((h) => client.on("welcome", h));
    client.connection.drop();
    await reconnected;
    assert.equal((await welcomed).welcome, `Welcome to ${room}!`);
    assert.equal((await client.sendMessage({ message: "after" })).message, "after");
  } finally {
    client.close();
  }
});
