// Replay mode of the incident page (issue 15): the incident as it stood at any moment of its
// life, from GET /api/incidents/{id}/state?at=T, drawn by layers and a feed of its own over
// the same map. The live page goes on underneath: its store keeps following the socket, its
// layers are only taken off the map, and leaving the replay puts them back as they are now.

import './replay.css';
import { t } from './i18n.js';
import { IncidentStore } from './store.js';
import { AnchorLayer, ConvoyLayer, showGeometry } from './map.js';
import { FeedPanel } from './feed.js';
import { api, formatTime, h, toast, errorText } from './util.js';
import { Latest, SPEEDS, StateCache, lifeOf, neighbours, trackOf, trailUpTo } from './replay-logic.js';

const TICK_MS = 250; // how often playing moves the moment on (and asks for its state)
const SCRUB_DEBOUNCE_MS = 120; // a slider being dragged asks once it pauses this long

/** The moment shown, with its date, seconds and zone: a replay is read to the second. */
export function replayTime(ms) {
  return formatTime(new Date(ms), true, { seconds: true });
}

export class Replay {
  /**
   * @param {object} opts
   * @param {import('leaflet').Map} opts.map
   * @param {string} opts.incidentId
   * @param {() => object|null} opts.incident    the live incident (its created_at, closed_at)
   * @param {object[]} opts.liveLayers            the live layers to take off the map meanwhile
   * @param {ConvoyLayer} opts.liveConvoys        whose following is paused meanwhile
   * @param {HTMLElement} opts.liveFeed           the live feed, hidden meanwhile
   * @param {HTMLElement} opts.feedRoot           where the replay's feed goes
   * @param {HTMLElement} opts.bar                the controls
   * @param {HTMLElement} opts.banner             "REPLAY — time"
   * @param {HTMLElement} opts.toggle             the button that enters and leaves
   * @param {() => void} [opts.onShow]            called when the moment shown changes, and on leaving
   */
  constructor(opts) {
    this.opts = opts;
    this.active = false;
    this.cache = new StateCache();
    this.tracks = new Map(); // vehicle id -> Promise of {coords, times}
    this.latest = new Latest(
      (ms) => this._fetch(ms),
      (ms, state) => this._show(ms, state),
      (ms, error) => toast(errorText(error), 'error'),
    );
    this.speed = 10;
    this.timer = null;
    this.debounce = null;
    opts.toggle.addEventListener('click', () => (this.active ? this.leave() : this.enter()));
    this._label();
  }

  // ------------------------------------------------------------ entering and leaving
  enter() {
    const incident = this.opts.incident();
    if (!incident || this.active) return;
    this.active = true;
    this.life = lifeOf(incident, Date.now());
    this.store = new IncidentStore();
    this.anchors = new AnchorLayer(this.opts.map, this.store, { canEdit: false, actions: {} });
    this.convoys = new ConvoyLayer(this.opts.map, this.store);
    this.convoys.onFollow = () => {
      this._followChoices();
      this._changed();
    };
    for (const layer of this.opts.liveLayers) this.opts.map.removeLayer(layer);
    this.liveFollowing = this.opts.liveConvoys.following;
    this.opts.liveConvoys.following = null; // a live vehicle must not pull the map meanwhile
    this.opts.liveFeed.hidden = true;
    this.opts.feedRoot.hidden = false;
    this.feed = new FeedPanel(this.opts.feedRoot, this.store, {
      canWrite: false,
      idPrefix: 'replay-',
      show: (geometry) => showGeometry(this.opts.map, geometry),
    });
    this._buildBar();
    this.opts.bar.dataset.opened = String(this.life.start); // the slider's 0, for tests and tools
    this.opts.bar.hidden = false;
    this.opts.banner.hidden = false;
    document.body.classList.add('is-replay');
    this._label();
    this.seek(this.life.end, true);
  }

  leave() {
    if (!this.active) return;
    this.pause();
    clearTimeout(this.debounce);
    this.active = false;
    for (const layer of [this.anchors.group, this.convoys.routes, this.convoys.trails, this.convoys.markers]) {
      this.opts.map.removeLayer(layer);
    }
    for (const layer of this.opts.liveLayers) layer.addTo(this.opts.map);
    this.opts.liveConvoys.following = this.liveFollowing;
    this.opts.feedRoot.replaceChildren();
    this.opts.feedRoot.hidden = true;
    this.opts.liveFeed.hidden = false;
    this.opts.bar.hidden = true;
    this.opts.bar.replaceChildren();
    this.opts.banner.hidden = true;
    document.body.classList.remove('is-replay');
    this.cache.clear(); // a later replay of a live incident must see what happened since
    this.tracks.clear();
    this._label();
    this._changed(); // the tabs show the live incident again
  }

  // ------------------------------------------------------------ the moment
  /** Show the incident at `ms`; `now` asks at once, otherwise after the slider rests a moment. */
  seek(ms, now = false) {
    if (!this.active) return;
    this.target = Math.round(Math.min(this.life.end, Math.max(this.life.start, ms)));
    this.slider.value = String(this.target - this.life.start);
    this._banner(this.target);
    clearTimeout(this.debounce);
    if (now) this.latest.want(this.target);
    else this.debounce = setTimeout(() => this.latest.want(this.target), SCRUB_DEBOUNCE_MS);
  }

  async _fetch(ms) {
    const cached = this.cache.get(ms);
    if (cached) return cached;
    const at = encodeURIComponent(new Date(ms).toISOString());
    const state = await api('GET', `/api/incidents/${encodeURIComponent(this.opts.incidentId)}/state?at=${at}`);
    this.cache.set(ms, state);
    return state;
  }

  _show(ms, state) {
    if (!this.active) return;
    this.shown = { ms, seq: state.seq };
    this.store.reset(state.snapshot, this.opts.incident());
    this._trails(ms);
    this.anchors.renderAll();
    this.convoys.renderAll();
    for (const vehicle of this.store.vehicles.values()) {
      if (!vehicle.position) this.convoys._drop(vehicle.id); // not yet heard of at that moment
    }
    this.feed.render();
    this._feedAtMoment();
    this._followChoices();
    this.opts.bar.dataset.shownAt = String(ms);
    this.opts.bar.dataset.seq = String(state.seq);
    this._changed();
  }

  /** The page's other views of the moment (its Anchors and Convoys tabs). */
  _changed() {
    if (this.opts.onShow) this.opts.onShow();
  }

  /** Each vehicle's trail up to the moment, from its stored track (fetched once per replay). */
  _trails(ms) {
    for (const vehicle of this.store.vehicles.values()) {
      const loaded = this.tracks.get(vehicle.id);
      if (loaded && loaded.value) vehicle.trail = trailUpTo(loaded.value, ms);
      else vehicle.trail = vehicle.position ? [[vehicle.position.lat, vehicle.position.lon]] : [];
      if (!loaded) this._loadTrack(vehicle.id);
    }
  }

  _loadTrack(id) {
    const entry = { value: null };
    this.tracks.set(id, entry);
    api('GET', `/api/vehicles/${encodeURIComponent(id)}/track`)
      .then((feature) => {
        entry.value = trackOf(feature);
        const vehicle = this.active && this.shown && this.store.vehicles.get(id);
        if (vehicle && vehicle.position) {
          vehicle.trail = trailUpTo(entry.value, this.shown.ms);
          this.convoys.renderVehicle(vehicle);
        }
      })
      .catch(() => {}); // no trail, the marker alone
  }

  /** The feed ends at the moment: its newest entry is marked and brought into view. */
  _feedAtMoment() {
    const entries = this.opts.feedRoot.querySelectorAll('.feed-list .entry');
    entries.forEach((li, i) => li.classList.toggle('entry-now', i === 0));
    if (entries[0]) entries[0].scrollIntoView({ block: 'nearest' });
  }

  // ------------------------------------------------------------ playing and stepping
  play() {
    if (this.timer) return;
    if (this.target >= this.life.end) this.seek(this.life.start, true);
    this.timer = setInterval(() => {
      // A live incident goes on meanwhile: the end of its life is now.
      this.life = lifeOf(this.opts.incident() || {}, Date.now());
      this.slider.max = String(this.life.end - this.life.start);
      const next = this.target + this.speed * TICK_MS;
      this.seek(next, true);
      if (next >= this.life.end) this.pause();
    }, TICK_MS);
    this._playLabel();
  }

  pause() {
    clearInterval(this.timer);
    this.timer = null;
    if (this.playButton) this._playLabel();
  }

  /** To the moment of the previous or next event in the log, around the state's seq. */
  async step(direction) {
    this.pause();
    let seq = this.shown && this.shown.ms === this.target ? this.shown.seq : null;
    try {
      if (seq === null) seq = (await this._fetch(this.target)).seq;
      const since = Math.max(0, seq - 2);
      const id = encodeURIComponent(this.opts.incidentId);
      const page = await api('GET', `/api/incidents/${id}/events?since=${since}&limit=3`);
      const { previous, next } = neighbours(page.events, this.target);
      const to = direction < 0 ? previous : next;
      if (to !== null) this.seek(to, true);
    } catch (error) {
      toast(errorText(error), 'error');
    }
  }

  // ------------------------------------------------------------ the controls
  _buildBar() {
    const range = this.life.end - this.life.start;
    this.slider = h('input', {
      type: 'range',
      id: 'replay-slider',
      min: 0,
      max: range,
      // about a thousand steps over the incident's life, for the keyboard's arrows
      step: Math.max(1, Math.round(range / 1000)),
      value: range,
      'aria-label': t('replay.slider'),
      oninput: () => {
        this.pause();
        this.seek(this.life.start + Number(this.slider.value));
      },
      onchange: () => this.seek(this.life.start + Number(this.slider.value), true),
    });
    this.playButton = h('button', { type: 'button', class: 'btn btn-small', id: 'replay-play', onclick: () => (this.timer ? this.pause() : this.play()) });
    const speed = h(
      'select',
      {
        id: 'replay-speed',
        'aria-label': t('replay.speed'),
        onchange: () => {
          this.speed = Number(speed.value);
        },
      },
      SPEEDS.map((s) => h('option', { value: s, selected: s === this.speed }, `${s}×`)),
    );
    this.follow = h('select', {
      id: 'replay-follow',
      'aria-label': t('replay.follow'),
      onchange: () => this.convoys.follow(this.follow.value || null),
    });
    this.opts.bar.replaceChildren(
      h('button', { type: 'button', class: 'btn btn-small', id: 'replay-previous', 'aria-label': t('replay.previous'), title: t('replay.previous'), onclick: () => this.step(-1) }, '⏮'),
      this.playButton,
      h('button', { type: 'button', class: 'btn btn-small', id: 'replay-next', 'aria-label': t('replay.next'), title: t('replay.next'), onclick: () => this.step(1) }, '⏭'),
      this.slider,
      h('label', { for: 'replay-speed' }, t('replay.speed')),
      speed,
      h('label', { for: 'replay-follow' }, t('replay.follow')),
      this.follow,
    );
    this._playLabel();
    this._followChoices();
  }

  _playLabel() {
    const playing = Boolean(this.timer);
    this.playButton.textContent = playing ? `⏸ ${t('replay.pause')}` : `▶ ${t('replay.play')}`;
    this.playButton.setAttribute('aria-pressed', String(playing));
  }

  _followChoices() {
    if (!this.follow) return;
    const chosen = this.convoys.following;
    const vehicles = [...this.store.vehicles.values()].filter((v) => v.position);
    this.follow.replaceChildren(
      h('option', { value: '' }, t('replay.follow_none')),
      ...vehicles.map((v) => h('option', { value: v.id, selected: v.id === chosen }, v.label)),
    );
  }

  _banner(ms) {
    this.opts.banner.textContent = `${t('replay.banner')} — ${replayTime(ms)}`;
  }

  _label() {
    this.opts.toggle.textContent = this.active ? t('replay.leave') : t('replay.enter');
    this.opts.toggle.setAttribute('aria-pressed', String(this.active));
  }

  /** After a language change: the controls' words, the banner's time. */
  setLang() {
    this._label();
    if (!this.active) return;
    const shownAt = this.target;
    this._buildBar();
    this.slider.value = String(shownAt - this.life.start);
    this._banner(shownAt);
    this.feed.build();
    this._feedAtMoment();
  }
}
