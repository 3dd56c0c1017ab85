// updater.js — a release channel's life: what serves at start, the checks of the manifest, the choice of a
// version, its installation, the swap, and the rollback when a version fails.
//
// One check, in order: the manifest, revalidated with its ETag (304: the one accepted before, no body) →
// believed (verify.js: signature, channel, validity window, not older than the last) → the target: the
// release when this installation is in its rollout, else `previous`; skipped when its engine bounds exclude this
// library or it was marked bad → installed (install.js: bytes checked before the engine reads them, model
// checked against the manifest, smoke test) → swapped in (calls running finish on the old version) → stored in
// the cache, and the cache trimmed to the versions kept. A version that fails to load, verify or pass its smoke
// test is marked bad (remembered in the state store) and the version serving stays: that is the rollback. A
// network failure marks nothing and is tried again at the next check.
//
// What the state store keeps per channel (key "channel:<channel> <manifest URL>"): the accepted manifest's text
// and ETag; `serving` (the manifest text the serving version came with, which of its releases, the cache key);
// `kept` (the cache entries this channel owns, newest first); `bad` (by SHA-256: version, code, reason, time).

import { EdgetagError } from "../errors.js";
import { version as libraryVersion } from "../engine.js";
import { fetchManifest } from "./download.js";
import { cacheKeyOf, install, storeProven } from "./install.js";
import { canonicalize, engineProblem, parseManifest, releasesOf } from "./manifest.js";
import { inRollout, newInstallationId, rolloutBucket } from "./rollout.js";
import { ReleaseTagger, Slot } from "./tagger.js";
import { checkFreshness, trustedKeys, verifySignature } from "./verify.js";

/** Errors that say nothing about the file: the network, a timeout, an abort. */
const isTransient = (e) => e?.code === "IO" || e?.name === "AbortError" || e?.name === "TimeoutError";

const describe = (e) => ({ code: String(e?.code ?? e?.name ?? "Error"), message: String(e?.message ?? e).replace(/^edgetag: /, "") });

export class Updater {
  #o; // the resolved options (channel.js)
  #keys = null;
  #tagger;
  #st = null; // the persisted record
  #stateKey;
  #manifest = null; // the accepted manifest, parsed and verified
  #bucket = null; // {channel, u}
  #phase = "starting";
  #checking = null;
  #download = null; // the AbortController of the install under way
  #candidate = null;
  #skipped = [];
  #rollout = null;
  #lastCheck = null;
  #timer = null;
  #storing = null; // the last installed version's cache write and trim
  #disposed = false;

  constructor(options) {
    this.#o = options;
    this.#stateKey = `channel:${options.channel ?? ""} ${options.manifest}`;
    this.#tagger = new ReleaseTagger({
      async: Boolean(options.loadOptions.worker),
      state: () => this.state(),
      checkNow: (o) => this.checkNow(o),
      abortUpdate: (reason) => this.#download?.abort(reason),
      dispose: () => this.dispose(),
    });
  }

  get tagger() {
    return this.#tagger;
  }

  /** Starts the channel: serves the last good version when it can, else waits for a first check to install one. */
  async open(signal) {
    const o = this.#o;
    this.#keys = await trustedKeys(o.publicKey);
    this.#st = { bad: {}, kept: [], ...(await o.store.get(this.#stateKey)) };
    this.installationId = o.installationId ?? await o.store.get("installation");
    if (!this.installationId) await o.store.set("installation", this.installationId = newInstallationId());
    this.#manifest = await this.#believeStored(this.#st.manifestText);
    if (!this.#manifest) Object.assign(this.#st, { manifestText: undefined, etag: undefined });
    if (!(await this.#serveStored(signal))) {
      const outcome = await this.#check(signal, true);
      if (!this.#tagger.slot) throw outcome.error ?? new EdgetagError("STATE", "edgetag: no version of the release could be served");
    } else if (o.checkIntervalMs > 0) {
      this.checkNow().catch(() => {});
    }
    this.#phase = "serving";
    this.#schedule();
    return this.#tagger;
  }

  /** A stored manifest, believed again (its signature; not its dates): null when it no longer is (a key rotated out). */
  async #believeStored(text) {
    if (!text) return null;
    try {
      const m = parseManifest(text);
      await verifySignature(m, this.#keys, { verifier: this.#o.verifier });
      return m;
    } catch {
      return null;
    }
  }

  /** Serves the version that served last time (its bytes from the cache, else the network). False when it cannot. */
  async #serveStored(signal) {
    const s = this.#st.serving;
    const manifest = s && await this.#believeStored(s.manifestText);
    if (!manifest) return false;
    const release = releasesOf(manifest, this.#o.manifest)[s.which];
    if (!release || engineProblem(release, libraryVersion) || this.#st.bad[release.sha256]) return false;
    try {
      await this.#installAndSwap(release, manifest.channel, s.manifestText, s.which, signal, { silent: true });
      return true;
    } catch (e) {
      if (signal?.aborted) throw e;
      if (!isTransient(e)) await this.#markBad(release, e); // e.g. a newer library that no longer runs it
      return false;
    }
  }

  /** Checks now; a check under way is joined. Resolves {outcome, version, error?}; never rejects. */
  checkNow({ signal } = {}) {
    if (this.#disposed) return Promise.resolve({ outcome: "disposed", version: this.#tagger.version });
    this.#checking ??= this.#check(signal, false).finally(() => { this.#checking = null; });
    return this.#checking;
  }

  async #check(signal, first) {
    const outcome = await this.#checkSteps(signal, first).catch((e) => ({ outcome: e?.name === "AbortError" ? "aborted" : "failed", error: e }));
    outcome.version = this.#tagger.version;
    this.#lastCheck = { at: new Date().toISOString(), outcome: outcome.outcome, ...(outcome.error && { error: describe(outcome.error) }) };
    if (!this.#disposed) this.#phase = this.#tagger.slot ? "serving" : "starting";
    if (first && signal?.aborted) throw signal.reason;
    this.#tagger.emit("check", { ...this.#lastCheck, version: outcome.version });
    return outcome;
  }

  async #checkSteps(signal, first) {
    const o = this.#o;
    await this.#storing; // the last version's cache write settles first
    this.#phase = "checking";
    const where = `the release manifest ${o.manifest}`;
    const got = await fetchManifest(o.manifest, { etag: this.#manifest ? this.#st.etag : undefined, fetch: o.fetch, signal });
    let manifest = this.#manifest, text = this.#st.manifestText;
    if (got.status === 304) {
      if (!manifest) throw new EdgetagError("IO", `edgetag: ${where} answered 304 Not Modified to a request without an ETag`);
      checkFreshness(manifest, { where, channel: o.channel, clockSkewMs: o.clockSkewMs });
    } else {
      manifest = parseManifest(got.text, where);
      await verifySignature(manifest, this.#keys, { where, verifier: o.verifier });
      checkFreshness(manifest, { where, channel: o.channel ?? this.#st.channel, clockSkewMs: o.clockSkewMs,
        accepted: this.#manifest && { createdAt: this.#manifest.createdAt, canonical: canonicalize(this.#manifest) } });
      text = got.text;
      this.#manifest = manifest;
      Object.assign(this.#st, { manifestText: text, etag: got.etag ?? undefined, channel: manifest.channel });
      await this.#save();
    }
    const base = got.status === 304 ? "not_modified" : "current";
    let failure = null;
    for (let attempt = 0; attempt < 2; attempt++) {
      const target = await this.#choose(manifest);
      if (!target) {
        if (this.#tagger.slot) return { outcome: "skipped" };
        throw failure ?? this.#nothingToServe(manifest);
      }
      if (target.release.sha256 === this.#tagger.sha256) return { outcome: base };
      try {
        const had = Boolean(this.#tagger.slot);
        const storing = await this.#installAndSwap(target.release, manifest.channel, text, target.which, signal);
        if (!first) await storing; // a first load answers before its cache write, as load() does
        return { outcome: had ? "updated" : "installed" };
      } catch (e) {
        if (isTransient(e)) throw e;
        await this.#markBad(target.release, e);
        if (this.#tagger.slot) return { outcome: "rolled_back", error: e };
        failure = e; // nothing serves yet (a first install): the other release, if there is one, is the next try
      }
    }
    throw failure ?? this.#nothingToServe(manifest);
  }

  /** The release this installation should serve, or null: {release, which}. Records the rollout and what was skipped. */
  async #choose(manifest) {
    if (this.#bucket?.channel !== manifest.channel)
      this.#bucket = { channel: manifest.channel, u: await rolloutBucket(this.installationId, manifest.channel) };
    const { current, previous } = releasesOf(manifest, this.#o.manifest);
    const takes = inRollout(this.#bucket.u, manifest.rollout);
    const skipped = [];
    let target = null;
    for (const [release, which] of takes ? [[current, "current"], [previous, "previous"]] : [[previous, "previous"]]) {
      if (!release) continue;
      const engine = engineProblem(release, libraryVersion);
      const bad = this.#st.bad[release.sha256];
      if (engine || bad) {
        const reason = engine ?? `marked bad: ${bad.reason}`;
        skipped.push({ version: release.version, reason, ...(engine && { code: "ENGINE_VERSION" }) });
        continue;
      }
      target = { release, which };
      break;
    }
    for (const s of skipped) if (!this.#skipped.some((x) => x.version === s.version && x.reason === s.reason)) this.#tagger.emit("skip", s);
    this.#skipped = skipped;
    this.#rollout = { percent: manifest.rollout, bucket: this.#bucket.u, inRollout: takes, version: current.version, target: target?.release.version ?? null };
    return target;
  }

  #nothingToServe(manifest) {
    const s = this.#skipped;
    if (s.length && s.every((x) => x.code === "ENGINE_VERSION"))
      return new EdgetagError("ENGINE_VERSION", `edgetag: no release of ${manifest.channel} runs on this engine: ` +
        s.map((x) => `${x.version} ${x.reason}`).join("; "));
    if (!this.#rollout.inRollout && !manifest.previous)
      return new EdgetagError("ROLLOUT", `edgetag: ${manifest.channel} ${manifest.version} is rolled out to ${manifest.rollout} % ` +
        "and this installation is not among them, and the manifest names no previous release to serve instead");
    return new EdgetagError("STATE", `edgetag: no release of ${manifest.channel} can serve here: ` +
      (s.map((x) => `${x.version} ${x.reason}`).join("; ") || "none is eligible"));
  }

  /**
   * Installs a release and swaps it in. Resolves once it serves, with the promise of its cache write (when it came
   * from the network) and of the cache's trim.
   */
  async #installAndSwap(release, channel, manifestText, which, signal, { silent = false } = {}) {
    const o = this.#o;
    const key = cacheKeyOf(channel, release);
    const controller = new AbortController();
    const onAbort = () => controller.abort(signal.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    this.#download = controller;
    this.#candidate = { version: release.version, loaded: 0, total: release.size };
    this.#phase = "downloading";
    let got;
    try {
      got = await install(release, {
        cache: o.cache, key, loadOptions: o.loadOptions, fetch: o.fetch, signal: controller.signal,
        onProgress: ({ loaded, total }) => {
          Object.assign(this.#candidate, { loaded, total });
          if (loaded === total) this.#phase = "verifying";
          this.#tagger.emit("progress", { version: release.version, loaded, total });
          o.onProgress?.({ loaded, total });
        },
      });
    } finally {
      signal?.removeEventListener("abort", onAbort);
      this.#download = null;
      this.#candidate = null;
    }
    if (this.#disposed) {
      await got.tagger.dispose?.();
      throw new DOMException("The release channel was disposed", "AbortError");
    }
    const old = this.#tagger.swap(new Slot(got.tagger, release, { ...got.origin, cache: got.copy ? "storing" : got.origin.kind === "cache" ? "hit" : "none" }));
    const previous = old?.release ?? null;
    this.#st.serving = { manifestText, which, key, version: release.version, sha256: release.sha256 };
    if (previous && previous.sha256 !== release.sha256)
      this.#st.previousGood = { version: previous.version, sha256: previous.sha256 };
    await this.#save();
    if (!silent) this.#tagger.emit("update", { version: release.version, previous: previous?.version ?? null });
    if (got.origin.kind === "cache") this.#keep(key, release);
    this.#storing = (got.copy ? this.#store(key, release, channel, got.copy) : Promise.resolve()).then(() => this.#trim()).catch(() => {});
    return this.#storing;
  }

  /** Writes the proven version to the cache (after the swap: the answer never waits for the disk). */
  async #store(key, release, channel, copy) {
    const o = this.#o;
    let outcome;
    try {
      const blob = await copy;
      const manifest = { name: this.#tagger.info?.name || channel, version: release.version, sha256: release.sha256, size: release.size,
        url: release.urls[0], task: release.task, labels: release.labels.length, storedAt: Date.now(), engine: libraryVersion, channel };
      outcome = await storeProven(o.cache, key, blob, manifest, () => this.#trim(1));
    } catch (e) {
      outcome = `not stored: ${e?.message ?? e}`;
    }
    if (outcome.startsWith("stored")) this.#keep(key, release);
    const slot = this.#tagger.slot;
    if (slot?.release.sha256 === release.sha256) slot.origin = { ...slot.origin, cache: outcome };
  }

  #keep(key, release) {
    this.#st.kept = [{ key, version: release.version, sha256: release.sha256 }, ...this.#st.kept.filter((k) => k.key !== key)];
  }

  /** Deletes the channel's cache entries beyond the `keep` newest (or `limit`), never the serving one. Answers how many. */
  async #trim(limit = this.#o.keep) {
    const serving = this.#st.serving?.key;
    const keep = [], drop = [];
    for (const k of this.#st.kept) (k.key === serving || keep.length < limit ? keep : drop).push(k);
    for (const k of drop) await this.#o.cache?.delete(k.key).catch(() => {});
    this.#st.kept = keep;
    if (drop.length) await this.#save();
    return drop.length;
  }

  async #markBad(release, e) {
    const { code, message } = describe(e);
    this.#st.bad[release.sha256] = { version: release.version, code, reason: message, at: new Date().toISOString() };
    const key = cacheKeyOf(this.#manifest?.channel ?? this.#st.channel, release);
    this.#st.kept = this.#st.kept.filter((k) => k.sha256 !== release.sha256);
    await this.#o.cache?.delete(key).catch(() => {});
    await this.#save();
    this.#tagger.emit("rollback", { version: release.version, code, reason: message, serving: this.#tagger.version });
  }

  #save() {
    return this.#o.store.set(this.#stateKey, this.#st).catch(() => {});
  }

  #schedule() {
    const every = this.#o.checkIntervalMs;
    if (!(every > 0) || this.#disposed) return;
    // ±10 % of jitter, so that installations started together do not check together.
    this.#timer = setTimeout(() => this.checkNow().finally(() => this.#schedule()), every * (0.9 + 0.2 * Math.random()));
    this.#timer.unref?.();
  }

  /** The channel's state, as ReleaseTagger.state answers it. */
  state() {
    const m = this.#manifest;
    return {
      phase: this.#disposed ? "disposed" : this.#phase,
      channel: m?.channel ?? this.#st?.channel ?? this.#o.channel ?? null,
      version: this.#tagger.version, sha256: this.#tagger.sha256,
      previousVersion: this.#st?.previousGood?.version ?? null,
      manifest: m && { version: m.version, rollout: m.rollout, createdAt: m.createdAt, expiresAt: m.expiresAt, etag: this.#st.etag ?? null },
      rollout: this.#rollout && { ...this.#rollout },
      candidate: this.#candidate && { ...this.#candidate },
      bad: Object.entries(this.#st?.bad ?? {}).map(([sha256, b]) => ({ version: b.version, sha256, code: b.code, reason: b.reason, at: b.at })),
      skipped: this.#skipped.map((s) => ({ ...s })),
      lastCheck: this.#lastCheck && { ...this.#lastCheck },
      cached: (this.#st?.kept ?? []).map((k) => k.version),
    };
  }

  /** Stops the timer and any download; the serving version is disposed by the tagger. */
  async dispose() {
    if (this.#disposed) return;
    this.#disposed = true;
    clearTimeout(this.#timer);
    this.#download?.abort(new DOMException("The release channel was disposed", "AbortError"));
    await this.#checking?.catch(() => {});
    await this.#storing;
  }
}
