import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  bridgeCommands,
  cidrsOverlap,
  freeSubnets,
  LAB_DEFAULTS,
  labAddresses,
  labNames,
  namespaceCommands,
  parseTag,
  randOfLink,
  tagOfNamespace,
  tbfArgs,
  teardownCommands,
  viewerCommands,
  type Command,
} from '../../e2e/lab/plan.js';
import { formatUplinks, parseUplinkSpec } from '../../e2e/lab/uplink-spec.js';

test('uplink spec: one cap for all, one per viewer, counts, off', () => {
  assert.deepEqual(parseUplinkSpec('4.5', 3), [4.5, 4.5, 4.5]);
  assert.deepEqual(parseUplinkSpec('4.5,4.5,9,2', 4), [4.5, 4.5, 9, 2]);
  assert.deepEqual(parseUplinkSpec('2x9,4x4.5', 6), [9, 9, 4.5, 4.5, 4.5, 4.5]);
  assert.deepEqual(parseUplinkSpec('off', 2), [null, null]);
  assert.deepEqual(parseUplinkSpec('1x9, off ,2x4.5', 4), [9, null, 4.5, 4.5]);
  assert.deepEqual(parseUplinkSpec('3x2', 3), [2, 2, 2]);
  for (const [spec, n] of [['4.5,9', 4], ['2x9', 3], ['7x1', 6], ['0', 2], ['abc', 2], ['4,5,6', 2], ['', 1], ['1e3', 1], ['-2', 1], ['0x4', 2]] as const) {
    const r = parseUplinkSpec(spec, n);
    assert.ok(!Array.isArray(r) && typeof r.error === 'string', `${spec} for ${n}: ${JSON.stringify(r)}`);
  }
  assert.equal(formatUplinks([9, 9, 4.5, 4.5, null, 2]), '2x9,2x4.5,off,2');
  assert.deepEqual(parseUplinkSpec(formatUplinks([9, 9, 4.5, null]), 4), [9, 9, 4.5, null]);
});

test('lab names: owner in every namespace name and alias, link names within 15 characters', () => {
  const n = labNames({ pid: 4194304, startTicks: 123456789012 }, 'ab1z9');
  assert.equal(n.tag, 'rclab-4194304-123456789012-ab1z9');
  assert.deepEqual(parseTag(n.tag), { owner: { pid: 4194304, startTicks: 123456789012 }, rand: 'ab1z9' });
  assert.equal(parseTag('rclab-1-2-abc'), undefined);
  assert.equal(tagOfNamespace(n.ns(7)), n.tag);
  assert.equal(tagOfNamespace('other-ns'), undefined);
  for (let s = 0; s < LAB_DEFAULTS.maxViewers; s++) {
    assert.ok(n.hostVeth(s).length <= 15, n.hostVeth(s));
    assert.equal(randOfLink(n.hostVeth(s)), 'ab1z9');
  }
  assert.equal(randOfLink(n.bridge), 'ab1z9');
  assert.equal(randOfLink('eth0'), undefined);
  assert.throws(() => labNames({ pid: 1, startTicks: 1 }, 'AB-12'));
});

test('lab commands: default route only to the bridge address, tbf only on a capped viewer, IPv6 off', () => {
  const n = labNames({ pid: 10, startTicks: 20 }, 'qwert');
  const a = labAddresses(42);
  assert.deepEqual(a.subnet, '10.213.42.0/24');
  assert.equal(a.host, '10.213.42.1');
  assert.equal(a.viewer(0), '10.213.42.2');
  const text = (cs: Command[]) => cs.map((c) => ('program' in c ? `${c.program} ${c.args.join(' ')}` : `sysctl ${c.ns ?? 'host'} ${c.sysctl}=${c.value}`));
  assert.deepEqual(text(namespaceCommands(n, 2)), [`ip netns add ${n.ns(0)}`, `ip netns add ${n.ns(1)}`]);
  const bridge = text(bridgeCommands(n, 42));
  assert.ok(bridge.includes(`ip addr add 10.213.42.1/24 dev ${n.bridge}`));
  assert.ok(bridge.includes(`ip link set dev ${n.bridge} alias ${n.tag}`));
  assert.ok(bridge.includes(`sysctl host net/ipv4/conf/${n.bridge}/forwarding=0`));
  const capped = text(viewerCommands(n, 42, 1, 4.5));
  const routes = capped.filter((c) => / route /.test(c));
  assert.deepEqual(routes, [`ip -n ${n.ns(1)} route add default via 10.213.42.1 dev eth0`]);
  assert.ok(capped.includes(`ip link add ${n.hostVeth(1)} type veth peer name eth0 netns ${n.ns(1)}`));
  assert.ok(capped.includes(`ip link set dev ${n.hostVeth(1)} master ${n.bridge}`));
  assert.ok(capped.includes(`sysctl ${n.ns(1)} net/ipv6/conf/all/disable_ipv6=1`));
  assert.deepEqual(capped.filter((c) => c.startsWith('tc ')), [`tc -n ${n.ns(1)} qdisc add dev eth0 root tbf rate 4500000bit burst 16384 latency 100ms`]);
  assert.deepEqual(text(viewerCommands(n, 42, 0, null)).filter((c) => c.startsWith('tc ')), []);
  // Nothing the lab runs names a host interface but its own.
  const all = [...bridge, ...capped, ...text(teardownCommands(n, 2))];
  for (const c of all) assert.doesNotMatch(c, / dev (?!eth0|lo\b|rcl)/, c);
  assert.deepEqual(text(teardownCommands(n, 2)), [
    `ip link del dev ${n.hostVeth(0)}`,
    `ip link del dev ${n.hostVeth(1)}`,
    `ip netns del ${n.ns(0)}`,
    `ip netns del ${n.ns(1)}`,
    `ip netns del ${n.router(0)}`,
    `ip netns del ${n.router(1)}`,
    `ip link del dev ${n.bridge}`,
  ]);
});

test('tbf: the bucket is 10 ms at the cap, at least 16 KiB', () => {
  assert.deepEqual(tbfArgs(2), ['tbf', 'rate', '2000000bit', 'burst', '16384', 'latency', '100ms']);
  assert.deepEqual(tbfArgs(100), ['tbf', 'rate', '100000000bit', 'burst', '125000', 'latency', '100ms']);
});

test('lab subnets: none that overlaps a host address or route (the default route excepted)', () => {
  assert.ok(cidrsOverlap('10.213.5.0/24', '10.0.0.0/8'));
  assert.ok(cidrsOverlap('10.213.5.0/24', '10.213.5.77/32'));
  assert.ok(cidrsOverlap('10.213.5.77', '10.213.5.0/24'));
  assert.ok(!cidrsOverlap('10.213.5.0/24', '10.213.6.0/24'));
  assert.ok(!cidrsOverlap('10.213.5.0/24', '192.0.2.0/24'));
  assert.ok(!cidrsOverlap('10.213.5.0/24', 'not-a-cidr'));
  assert.equal(freeSubnets(['0.0.0.0/0', '192.0.2.2/24', '127.0.0.1/8']).length, 256);
  const free = freeSubnets(['10.213.5.0/24', '10.213.128.0/17', '10.213.7.9']);
  assert.ok(!free.includes(5) && !free.includes(7) && !free.includes(128) && !free.includes(255));
  assert.ok(free.includes(6) && free.includes(127));
  assert.deepEqual(freeSubnets(['10.0.0.0/8']), []);
});
