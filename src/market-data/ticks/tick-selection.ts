import {
  type FragmentDefinitionNode,
  type GraphQLResolveInfo,
  type SelectionSetNode,
} from 'graphql';
import { collectFields } from '../../common/graphql/collect-fields';
import { InstrumentKeyMap } from '../feed/instrument-key-map';
import type { FragmentOf } from './tick-fanout';
import { emptyFragment, writeFragment, type Fragment } from './tick-fragment';
import { DEPTH_LEVELS, DEPTH_STRIDE, type TickRecord } from './tick-store';

/** One selected field: response key (alias or name), field name, sub-selection (depth). */
export interface SelectedField {
  key: string;
  name: string;
  sub?: SelectedField[];
}

const TICK_FIELDS = [
  'segment',
  'securityId',
  'ltp',
  'lastTradeTime',
  'lastTradeQty',
  'avgPrice',
  'volume',
  'totalBuyQty',
  'totalSellQty',
  'open',
  'high',
  'low',
  'close',
  'prevClose',
  'change',
  'changePercent',
  'oi',
  'depth',
  'stale',
] as const;
const DEPTH_FIELDS = ['bidQty', 'bidOrders', 'bidPrice', 'askQty', 'askOrders', 'askPrice'];
const DEPTH_OFFSET: Record<string, number> = {
  bidQty: 0,
  bidOrders: 1,
  bidPrice: 2,
  askQty: 3,
  askOrders: 4,
  askPrice: 5,
};

/**
 * The fields selected under one field node, merged by response key in first-seen order as
 * graphql-js does, fragments and @skip/@include applied.
 */
export function collectSelection(
  selectionSet: SelectionSetNode | undefined,
  fragments: Readonly<Record<string, FragmentDefinitionNode>>,
  variables: Readonly<Record<string, unknown>>,
): SelectedField[] {
  const fields = collectFields(selectionSet ? [selectionSet] : [], fragments, variables);
  return fields.map(({ key, name, sets }) => {
    if (sets.length === 0) return { key, name };
    const sub = sets.flatMap((set) => collectSelection(set, fragments, variables));
    const merged = new Map<string, SelectedField>();
    for (const f of sub) if (!merged.has(f.key)) merged.set(f.key, f);
    return { key, name, sub: [...merged.values()] };
  });
}

/** The selection under the `ticks` field of a resolver's info. */
export function tickSelection(info: GraphQLResolveInfo): SelectedField[] {
  return collectSelection(
    info.fieldNodes[0]?.selectionSet,
    info.fragments,
    info.variableValues as Record<string, unknown>,
  );
}

function num(x: number): string {
  return x === x ? String(x) : 'null';
}

type Emit = (r: TickRecord) => string;

function depthEmitter(sub: readonly SelectedField[]): Emit {
  const parts = sub.map((f) => {
    const key = JSON.stringify(f.key);
    if (f.name === '__typename') return () => `${key}:"DepthLevel"`;
    const o = DEPTH_OFFSET[f.name] ?? 0;
    return (d: Float64Array, base: number) => `${key}:${d[base + o]}`;
  });
  return (r) => {
    if (!r.hasDepth) return 'null';
    let out = '[';
    for (let i = 0; i < DEPTH_LEVELS; i++) {
      const base = i * DEPTH_STRIDE;
      out += i === 0 ? '{' : ',{';
      for (let p = 0; p < parts.length; p++) {
        out += (p === 0 ? '' : ',') + parts[p](r.depth, base);
      }
      out += '}';
    }
    return out + ']';
  };
}

function fieldEmitter(f: SelectedField): Emit {
  switch (f.name) {
    case '__typename':
      return () => '"Tick"';
    case 'segment':
      return (r) => `"${r.segment}"`;
    case 'securityId':
      return (r) => `"${r.securityId}"`;
    case 'ltp':
      return (r) => num(r.ltp);
    case 'lastTradeTime':
      return (r) => (r.ltt > 0 ? `"${new Date(r.ltt * 1000).toISOString()}"` : 'null');
    case 'lastTradeQty':
      return (r) => num(r.ltq);
    case 'avgPrice':
      return (r) => num(r.atp);
    case 'volume':
      return (r) => num(r.volume);
    case 'totalBuyQty':
      return (r) => num(r.totalBuyQty);
    case 'totalSellQty':
      return (r) => num(r.totalSellQty);
    case 'open':
      return (r) => num(r.open);
    case 'high':
      return (r) => num(r.high);
    case 'low':
      return (r) => num(r.low);
    case 'close':
      return (r) => num(r.close);
    case 'prevClose':
      return (r) => num(r.prevClose);
    case 'change':
      return (r) => num(r.change);
    case 'changePercent':
      return (r) => num(r.changePercent);
    case 'oi':
      return (r) => num(r.oi);
    case 'depth':
      return depthEmitter(f.sub ?? []);
    case 'stale':
      return (r) => (r.stale ? 'true' : 'false');
    // Not in the canonical shape: only a selection naming them pays for them.
    case 'source':
      return (r) => (r.hasData ? (r.fromRest ? '"REST"' : '"FEED"') : 'null');
    case 'receivedAt':
      return (r) => (r.hasData ? `"${new Date(r.updatedAt).toISOString()}"` : 'null');
    default:
      return () => 'null';
  }
}

/** JSON text of one record for a selection, keys in selection order (as graphql-js writes). */
export function selectionSerializer(fields: readonly SelectedField[]): (r: TickRecord) => string {
  const parts = fields.map((f) => ({ prefix: JSON.stringify(f.key) + ':', emit: fieldEmitter(f) }));
  return (r) => {
    let out = '{';
    for (let i = 0; i < parts.length; i++) {
      out += (i === 0 ? '' : ',') + parts[i].prefix + parts[i].emit(r);
    }
    return out + '}';
  };
}

function signature(fields: readonly SelectedField[]): string {
  return fields
    .map(
      (f) =>
        (f.key === f.name ? f.name : `${f.key}:${f.name}`) + (f.sub ? `{${signature(f.sub)}}` : ''),
    )
    .join(' ');
}

/** The canonical shape (all fields, serializeTick's order): served from the record cache. */
const CANONICAL = signature([
  ...TICK_FIELDS.map((name) =>
    name === 'depth'
      ? { key: name, name, sub: DEPTH_FIELDS.map((d) => ({ key: d, name: d })) }
      : { key: name, name },
  ),
]);

class ShapeCache {
  /** Per instrument: the version its fragment holds (written in place, see Fragment). */
  private readonly cache = new InstrumentKeyMap<{ version: number; fragment: Fragment }>();
  constructor(private readonly emit: (r: TickRecord) => string) {}

  readonly fragment: FragmentOf = (r) => {
    let hit = this.cache.get(r.key);
    if (hit && hit.version === r.version) return hit.fragment;
    if (hit === undefined) {
      hit = { version: -1, fragment: emptyFragment() };
      this.cache.set(r.key, hit);
    }
    writeFragment(hit.fragment, this.emit(r), 'utf8');
    hit.version = r.version;
    return hit.fragment;
  };
}

/**
 * Fragment functions per selection shape, shared by every subscription of that shape: a
 * record version is serialised once per shape however many clients want it. The full
 * selection in canonical order returns undefined: the fan-out's TickSerializer, whose cache
 * is on the record itself, serves it.
 */
export class TickShapes {
  private readonly shapes = new Map<string, ShapeCache>();

  fragmentFor(fields: readonly SelectedField[]): FragmentOf | undefined {
    const sig = signature(fields);
    if (sig === CANONICAL) return undefined;
    let shape = this.shapes.get(sig);
    if (!shape) {
      shape = new ShapeCache(selectionSerializer(fields));
      this.shapes.set(sig, shape);
    }
    return shape.fragment;
  }

  get size(): number {
    return this.shapes.size;
  }
}
