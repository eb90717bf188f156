// The channel client runtime: negotiate, WebSocket, correlated calls, pushed frames, reconnect.
// Copied as is by `python -m shared.core.codegen`; the generated api.ts adds the types.
/** An error frame `{action?, id?, error, errorName, status}` as a rejected call sees it. */
export class ChannelCallError extends Error {
    errorName;
    status;
    action;
    constructor(message, errorName, status, action) {
        super(message);
        this.errorName = errorName;
        this.status = status;
        this.action = action;
        this.name = errorName;
    }
}
const JSON_PROTOCOL = "json.webpubsub.azure.v1";
function newId() {
    const bytes = new Uint8Array(16);
    globalThis.crypto.getRandomValues(bytes); // unlike randomUUID, also on plain-http pages
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
function isObject(value) {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}
function isErrorFrame(frame) {
    return typeof frame.error === "string" && typeof frame.errorName === "string" && typeof frame.status === "number";
}
function toError(frame) {
    const action = typeof frame.action === "string" ? frame.action : undefined;
    return new ChannelCallError(String(frame.error), String(frame.errorName), Number(frame.status), action);
}
/** `POST`/`GET` JSON to an HTTP route; rejects with a ChannelCallError on an error body. */
export async function requestJson(url, method, body, token, fetchImpl = fetch) {
    const headers = { "Content-Type": "application/json" };
    if (token)
        headers.Authorization = `Bearer ${token}`;
    const response = await fetchImpl(url, { method, headers, body: method === "GET" ? undefined : JSON.stringify(body) });
    const text = await response.text();
    const parsed = text ? JSON.parse(text) : undefined;
    if (!response.ok) {
        if (isObject(parsed) && isErrorFrame(parsed))
            throw toError(parsed);
        throw new ChannelCallError(`${url} answered ${response.status}`, "HttpError", response.status);
    }
    return parsed;
}
/** One channel connection; survives drops by renegotiating (with the token) and reopening. */
export class Connection {
    baseUrl;
    spec;
    openingData;
    options;
    socket = null;
    pending = new Map();
    handlers = new Map();
    closedByUser = false;
    attempt = 0;
    opened = null;
    everOpened = false;
    retry = null;
    /** The on_connect frame of the current connection (the channel's welcome). */
    connectFrame = null;
    constructor(baseUrl, spec, openingData, options = {}) {
        this.baseUrl = baseUrl;
        this.spec = spec;
        this.openingData = openingData;
        this.options = options;
    }
    /** Negotiate, open the socket, wait for the on_connect frame. */
    async open() {
        this.closedByUser = false;
        this.opened = this.connectOnce();
        await this.opened;
    }
    async connectOnce() {
        const query = new URLSearchParams({ channel: this.spec.name });
        for (const [key, value] of Object.entries(this.openingData)) {
            if (value !== undefined && value !== null)
                query.set(key, String(value));
        }
        const url = `${this.baseUrl.replace(/\/$/, "")}${this.spec.negotiate}?${query}`;
        const negotiate = async () => {
            const info = await requestJson(url, "GET", undefined, this.options.token, this.options.fetch);
            if (!isObject(info) || typeof info.url !== "string")
                throw new Error("negotiate gave no url");
            return info.url;
        };
        const socket = this.options.webPubSubClient
            ? this.sdkSocket(this.options.webPubSubClient(negotiate))
            : this.plainSocket(await negotiate());
        this.socket = socket;
        const welcome = this.spec.onConnect;
        await new Promise((resolve, reject) => {
            let settled = false;
            const settle = (error) => {
                if (settled)
                    return;
                settled = true;
                if (error)
                    reject(error);
                else
                    resolve();
            };
            socket.onopen = () => {
                if (!welcome)
                    settle();
            };
            socket.onerror = () => settle(new Error(`could not open the ${this.spec.name} channel`));
            socket.onclose = (event) => {
                settle(new ChannelCallError(`closed: ${event.reason || event.code}`, "ConnectionClosed", 503));
                this.lost(socket);
            };
            socket.onmessage = (event) => {
                const frame = socket.parsed ? event.data : this.unwrap(event.data);
                if (frame === undefined)
                    return;
                if (!settled && welcome && isObject(frame)) {
                    if (isErrorFrame(frame))
                        return settle(toError(frame));
                    this.connectFrame = frame;
                }
                this.receive(frame);
                if (!settled && this.connectFrame)
                    settle();
            };
        });
        this.attempt = 0;
        this.everOpened = true;
    }
    plainSocket(url) {
        const Socket = this.options.WebSocket ?? globalThis.WebSocket;
        if (!Socket)
            throw new Error("no WebSocket class: pass options.WebSocket (the `ws` package in Node 20)");
        const json = this.options.protocol === JSON_PROTOCOL;
        return new Socket(url, json ? [JSON_PROTOCOL] : []);
    }
    /** The SDK client behind the socket interface: its messages arrive parsed, its events go up
     * as JSON `message` events, and its `stopped` (recovery and reconnection gave up) is a close. */
    sdkSocket(client) {
        const socket = {
            onopen: null,
            onmessage: null,
            onclose: null,
            onerror: null,
            send: (frame) => client.sendEvent("message", frame, "json"),
            close: () => client.stop(),
            parsed: true,
        };
        const deliver = (e) => socket.onmessage?.({ data: e.message.data });
        client.on("server-message", deliver);
        client.on("group-message", deliver);
        client.on("stopped", () => socket.onclose?.({ code: 1006, reason: "stopped" }));
        client.start().then(() => socket.onopen?.(), () => socket.onerror?.());
        return socket;
    }
    unwrap(data) {
        const text = typeof data === "string" ? data : String(data);
        let parsed;
        try {
            parsed = JSON.parse(text);
        }
        catch {
            return undefined; // not a frame of this protocol
        }
        if (this.options.protocol !== JSON_PROTOCOL)
            return parsed;
        if (!isObject(parsed) || parsed.type !== "message")
            return undefined; // system/ack envelopes
        return parsed.dataType === "json" ? parsed.data : typeof parsed.data === "string" ? JSON.parse(parsed.data) : undefined;
    }
    receive(frame) {
        if (!isObject(frame))
            return this.emit("frame", frame);
        const id = frame.id;
        const routed = isErrorFrame(frame) || this.spec.routingKeys.some((key) => key in frame);
        if ((typeof id === "string" || typeof id === "number") && routed && this.pending.has(String(id))) {
            const call = this.pending.get(String(id));
            this.pending.delete(String(id));
            if (call) {
                clearTimeout(call.timer);
                if (isErrorFrame(frame))
                    call.reject(toError(frame));
                else
                    call.resolve(frame);
            }
            return;
        }
        if (isErrorFrame(frame))
            return this.emit("error", frame);
        const push = this.spec.pushes.find((m) => Object.keys(m.consts).length > 0
            ? Object.entries(m.consts).every(([k, v]) => frame[k] === v)
            : m.required.length > 0 && m.required.every((k) => k in frame));
        this.emit(push ? push.name : "frame", frame);
    }
    emit(name, frame) {
        for (const handler of this.handlers.get(name) ?? [])
            handler(frame);
    }
    /** Call `handler` for each pushed frame named `name`; returns the unsubscribe function. */
    on(name, handler) {
        const set = this.handlers.get(name) ?? new Set();
        set.add(handler);
        this.handlers.set(name, set);
        return () => set.delete(handler);
    }
    /** Send `{[key]: action, id, ...data}`; resolves with the reply frame echoing `id`. */
    async call(key, action, data) {
        if (this.opened)
            await this.opened;
        const socket = this.socket;
        if (!socket)
            throw new ChannelCallError("not connected", "ConnectionClosed", 503, action);
        // Unique (an action may use it, as sendMessage's idempotency key), or the one `data`
        // carries: a retry of a failed call sends the same id again.
        const given = isObject(data) ? data.id : undefined;
        const sent = typeof given === "string" || typeof given === "number" ? given : newId();
        const id = String(sent);
        if (this.pending.has(id))
            throw new ChannelCallError(`a call with id ${id} is in flight`, "Conflict", 409, action);
        const frame = { ...(isObject(data) ? data : {}), [key]: action, id: sent };
        return new Promise((resolve, reject) => {
            const timeout = this.options.timeoutMs ?? 30_000;
            const timer = setTimeout(() => {
                this.pending.delete(id);
                reject(new ChannelCallError(`no reply to ${action} in ${timeout} ms`, "Timeout", 504, action));
            }, timeout);
            this.pending.set(id, { resolve, reject, timer });
            this.send(frame).catch((error) => {
                clearTimeout(timer);
                this.pending.delete(id);
                reject(new ChannelCallError(`could not send ${action}: ${String(error)}`, "SendFailed", 503, action));
            });
        });
    }
    /** Send a frame as is (an unrouted channel's message); its reply comes as a `frame` push. */
    async send(frame) {
        if (!this.socket)
            throw new ChannelCallError("not connected", "ConnectionClosed", 503);
        if (this.socket.parsed) {
            await this.socket.send(frame);
            return;
        }
        const json = this.options.protocol === JSON_PROTOCOL;
        this.socket.send(JSON.stringify(json ? { type: "event", event: "message", dataType: "json", data: frame } : frame));
    }
    lost(socket) {
        if (socket !== this.socket)
            return;
        this.socket = null;
        for (const [id, call] of this.pending) {
            clearTimeout(call.timer);
            call.reject(new ChannelCallError("the connection closed before the reply", "ConnectionClosed", 503));
            this.pending.delete(id);
        }
        this.scheduleReconnect();
    }
    scheduleReconnect() {
        if (this.closedByUser || !this.everOpened || this.options.reconnect === false || this.retry)
            return;
        this.emit("reconnecting", { attempt: this.attempt + 1 });
        const min = this.options.minDelayMs ?? 250;
        const delay = Math.min(min * 2 ** this.attempt, this.options.maxDelayMs ?? 10_000);
        this.attempt += 1;
        this.retry = setTimeout(() => {
            this.retry = null;
            if (this.closedByUser)
                return;
            // Renegotiate (a fresh access token, the session token again), then reopen.
            this.opened = this.connectOnce().then(() => this.emit("reconnected", { attempt: this.attempt }), () => this.scheduleReconnect());
        }, delay);
    }
    /** Drop the socket without closing the connection: the next attempt reconnects (for tests). */
    drop() {
        this.socket?.close(4000, "dropped");
    }
    close() {
        this.closedByUser = true;
        if (this.retry)
            clearTimeout(this.retry);
        this.socket?.close(1000, "closed");
    }
}
