// A stand-in for EventBridge Scheduler on 127.0.0.1 (no emulator here speaks its API): the
// REST-JSON protocol the real SDK sends (POST/PUT/GET/DELETE /schedules/{Name}, GET /schedules),
// schedules stored per group with the checks Scheduler makes on them (group exists, name, cron
// expression with `?` in a day field, IANA time zone, flexible window, retry policy bounds), and
// firing: a schedule due in its time zone delivers its Target.Input (context attributes filled in)
// to `deliver`, retries a failed delivery up to its RetryPolicy, then hands it to `deadLetter`
// with Scheduler's error attributes.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Cron } from 'croner';

export interface StoredSchedule {
  Arn: string;
  Name: string;
  GroupName: string;
  ScheduleExpression: string;
  ScheduleExpressionTimezone?: string;
  FlexibleTimeWindow: { Mode: string; MaximumWindowInMinutes?: number };
  State: string;
  Description?: string;
  Target: {
    Arn: string;
    RoleArn: string;
    Input?: string;
    RetryPolicy?: { MaximumRetryAttempts?: number; MaximumEventAgeInSeconds?: number };
    DeadLetterConfig?: { Arn?: string };
  };
  CreationDate: number;
  LastModificationDate: number;
}

export interface Firing {
  schedule: string;
  attempts: number;
  delivered: boolean;
  deadLettered: boolean;
}

export interface SchedulerStandIn {
  endpoint: string;
  /** Every request as the SDK sent it (operation, path, body). */
  requests: { method: string; path: string; body: unknown }[];
  schedules(group: string): StoredSchedule[];
  /** When a schedule fires next after `after`, read in its time zone (UTC by default). */
  nextFire(group: string, name: string, after: Date): Date | null;
  /** Fires every enabled schedule due in (from, to], as Scheduler would at those times. */
  fireDue(from: Date, to: Date): Promise<Firing[]>;
  close(): Promise<void>;
}

export interface SchedulerStandInOptions {
  /** Schedule groups that exist (the stack created them). */
  groups: string[];
  region?: string;
  account?: string;
  /** Invokes the target with the parsed Input; a throw is a failed delivery. */
  deliver(targetArn: string, event: unknown): Promise<void>;
  /** Receives an event that failed every attempt, with the body Scheduler sends to a DLQ. */
  deadLetter?(dlqArn: string, body: string, attributes: Record<string, string>): Promise<void>;
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

const NAME = /^[0-9a-zA-Z-_.]{1,64}$/;

/** Scheduler's checks on a cron expression: 6 fields, `?` in exactly one of the day fields. */
function checkExpression(expr: string): void {
  if (/^rate\(\d+ (minute|minutes|hour|hours|day|days)\)$/.test(expr) || /^at\(\S+\)$/.test(expr)) return;
  const m = /^cron\((.*)\)$/.exec(expr);
  const f = m?.[1]?.trim().split(/\s+/) ?? [];
  if (f.length !== 6) throw new ApiError(400, 'ValidationException', `Invalid Schedule Expression ${expr}.`);
  const [, , dom, , dow] = f;
  if ((dom === '?') === (dow === '?'))
    throw new ApiError(400, 'ValidationException', `Invalid Schedule Expression ${expr}.`);
}

/** The cron expression as a croner pattern (days of the week 1–7 from Sunday → 0–6). */
function cronerPattern(expr: string): string | undefined {
  const m = /^cron\((.*)\)$/.exec(expr);
  if (!m?.[1]) return undefined;
  const [min, hour, dom, mon, dow] = m[1].trim().split(/\s+/) as string[];
  const day = (d: string) => (d === '?' ? '*' : d);
  const week = day(dow ?? '*').replace(/\d+/g, (d) => String((Number(d) + 6) % 7));
  return `${min} ${hour} ${day(dom ?? '*')} ${mon} ${week}`;
}

function checkTimeZone(tz: string | undefined): void {
  if (tz === undefined) return;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
  } catch {
    throw new ApiError(400, 'ValidationException', `Invalid ScheduleExpressionTimezone ${tz}.`);
  }
}

function checkBody(b: Record<string, unknown>): void {
  if (typeof b.ScheduleExpression !== 'string')
    throw new ApiError(400, 'ValidationException', 'ScheduleExpression is required.');
  checkExpression(b.ScheduleExpression);
  checkTimeZone(b.ScheduleExpressionTimezone as string | undefined);
  const window = b.FlexibleTimeWindow as { Mode?: string } | undefined;
  if (!window || !['OFF', 'FLEXIBLE'].includes(window.Mode ?? ''))
    throw new ApiError(400, 'ValidationException', 'FlexibleTimeWindow.Mode must be OFF or FLEXIBLE.');
  const t = b.Target as StoredSchedule['Target'] | undefined;
  if (!t?.Arn || !t.RoleArn)
    throw new ApiError(400, 'ValidationException', 'Target.Arn and Target.RoleArn are required.');
  const r = t.RetryPolicy;
  if (r?.MaximumRetryAttempts !== undefined && (r.MaximumRetryAttempts < 0 || r.MaximumRetryAttempts > 185))
    throw new ApiError(400, 'ValidationException', 'MaximumRetryAttempts must be 0..185.');
  if (
    r?.MaximumEventAgeInSeconds !== undefined &&
    (r.MaximumEventAgeInSeconds < 60 || r.MaximumEventAgeInSeconds > 86400)
  )
    throw new ApiError(400, 'ValidationException', 'MaximumEventAgeInSeconds must be 60..86400.');
}

export async function startSchedulerStandIn(opts: SchedulerStandInOptions): Promise<SchedulerStandIn> {
  const region = opts.region ?? 'us-east-1';
  const account = opts.account ?? '000000000000';
  const groups = new Map<string, Map<string, StoredSchedule>>(opts.groups.map((g) => [g, new Map()]));
  const requests: SchedulerStandIn['requests'] = [];

  const groupOf = (name: string | null | undefined) => {
    const g = groups.get(name || 'default');
    if (!g) throw new ApiError(404, 'ResourceNotFoundException', `Schedule group ${name} does not exist.`);
    return g;
  };

  const handle = (method: string, url: URL, body: Record<string, unknown>): unknown => {
    const one = /^\/schedules\/([^/]+)$/.exec(url.pathname);
    const now = Date.now() / 1000;
    if (method === 'GET' && url.pathname === '/schedules') {
      const g = groupOf(url.searchParams.get('ScheduleGroup'));
      const prefix = url.searchParams.get('NamePrefix') ?? '';
      const all = [...g.values()].filter((s) => s.Name.startsWith(prefix));
      const start = Number(url.searchParams.get('NextToken') ?? 0);
      const max = Number(url.searchParams.get('MaxResults') ?? 100);
      const page = all.slice(start, start + max);
      return {
        Schedules: page.map((s) => ({
          Arn: s.Arn,
          Name: s.Name,
          GroupName: s.GroupName,
          State: s.State,
          CreationDate: s.CreationDate,
          LastModificationDate: s.LastModificationDate,
          Target: { Arn: s.Target.Arn },
        })),
        ...(start + max < all.length ? { NextToken: String(start + max) } : {}),
      };
    }
    if (!one?.[1]) throw new ApiError(404, 'ResourceNotFoundException', `No route ${method} ${url.pathname}`);
    const name = decodeURIComponent(one[1]);
    if (!NAME.test(name)) throw new ApiError(400, 'ValidationException', `Invalid schedule name ${name}.`);
    const groupName =
      (method === 'GET' || method === 'DELETE'
        ? url.searchParams.get('groupName')
        : (body.GroupName as string | undefined)) ?? 'default';
    const g = groupOf(groupName);
    const existing = g.get(name);
    if (method === 'GET' || method === 'DELETE') {
      if (!existing) throw new ApiError(404, 'ResourceNotFoundException', `Schedule ${name} does not exist.`);
      if (method === 'DELETE') g.delete(name);
      return method === 'GET' ? existing : {};
    }
    if (method === 'POST' && existing)
      throw new ApiError(409, 'ConflictException', `Schedule ${name} already exists.`);
    if (method === 'PUT' && !existing)
      throw new ApiError(404, 'ResourceNotFoundException', `Schedule ${name} does not exist.`);
    if (method !== 'POST' && method !== 'PUT') throw new ApiError(405, 'ValidationException', method);
    checkBody(body);
    const s: StoredSchedule = {
      Arn: `arn:aws:scheduler:${region}:${account}:schedule/${groupName}/${name}`,
      Name: name,
      GroupName: groupName,
      ScheduleExpression: body.ScheduleExpression as string,
      ...(body.ScheduleExpressionTimezone
        ? { ScheduleExpressionTimezone: body.ScheduleExpressionTimezone as string }
        : {}),
      FlexibleTimeWindow: body.FlexibleTimeWindow as StoredSchedule['FlexibleTimeWindow'],
      State: (body.State as string | undefined) ?? 'ENABLED',
      ...(body.Description ? { Description: body.Description as string } : {}),
      Target: body.Target as StoredSchedule['Target'],
      CreationDate: existing?.CreationDate ?? now,
      LastModificationDate: now,
    };
    g.set(name, s);
    return { ScheduleArn: s.Arn };
  };

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = '';
    req.on('data', (c: Buffer) => {
      raw += c.toString();
    });
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://stand-in');
      const method = req.method ?? 'GET';
      let body: Record<string, unknown> = {};
      try {
        body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
        requests.push({ method, path: url.pathname + url.search, body });
        const out = handle(method, url, body);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(out));
      } catch (err) {
        const e = err instanceof ApiError ? err : new ApiError(500, 'InternalServerException', String(err));
        res.writeHead(e.status, { 'content-type': 'application/json', 'x-amzn-errortype': e.type });
        res.end(JSON.stringify({ Message: e.message }));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const find = (group: string, name: string) => groups.get(group)?.get(name);
  const nextFire = (s: StoredSchedule, after: Date): Date | null => {
    const pattern = cronerPattern(s.ScheduleExpression);
    if (!pattern) return null;
    return new Cron(pattern, { paused: true, timezone: s.ScheduleExpressionTimezone ?? 'UTC' }).nextRun(
      after,
    );
  };

  const fire = async (s: StoredSchedule, at: Date): Promise<Firing> => {
    const retries = s.Target.RetryPolicy?.MaximumRetryAttempts ?? 185;
    // Context attributes, filled in as Scheduler does (the same scheduled time on every retry).
    const input = (s.Target.Input ?? '{}')
      .replaceAll('<aws.scheduler.scheduled-time>', at.toISOString().replace(/\.\d{3}Z$/, 'Z'))
      .replaceAll('<aws.scheduler.schedule-arn>', s.Arn);
    let lastError = '';
    for (let attempt = 1; attempt <= retries + 1; attempt++) {
      try {
        await opts.deliver(s.Target.Arn, JSON.parse(input));
        return { schedule: s.Name, attempts: attempt, delivered: true, deadLettered: false };
      } catch (err) {
        lastError = (err as Error).message;
      }
    }
    const dlq = s.Target.DeadLetterConfig?.Arn;
    if (dlq && opts.deadLetter) {
      await opts.deadLetter(dlq, input, {
        ERROR_CODE: 'AWS.Scheduler.TargetInvocationFailed',
        ERROR_MESSAGE: lastError,
        EXECUTION_ID: `${s.Name}-${Date.now()}`,
        SCHEDULE_ARN: s.Arn,
        TARGET_ARN: s.Target.Arn,
      });
    }
    return { schedule: s.Name, attempts: retries + 1, delivered: false, deadLettered: Boolean(dlq) };
  };

  return {
    endpoint,
    requests,
    schedules: (group) => [...(groups.get(group)?.values() ?? [])],
    nextFire(group, name, after) {
      const s = find(group, name);
      return s ? nextFire(s, after) : null;
    },
    async fireDue(from, to) {
      const out: Firing[] = [];
      for (const g of groups.values()) {
        for (const s of g.values()) {
          if (s.State !== 'ENABLED') continue;
          const next = nextFire(s, from);
          if (next && next.getTime() <= to.getTime()) out.push(await fire(s, next));
        }
      }
      return out;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
