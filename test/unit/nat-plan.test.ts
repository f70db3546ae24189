import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NAT_LAN, natRuleset, parseNatCounters, parseNatSpec } from '../../e2e/lab/nat-plan.js';
import { labNames, namespaceCommands, tagOfNamespace, teardownCommands, viewerCommands, type Command } from '../../e2e/lab/plan.js';
import { coturnArgs, isBindingSuccess, stunBindingRequest } from '../../e2e/lab/coturn.js';

const text = (cs: Command[]) => cs.map((c) => ('program' in c ? `${c.program} ${c.args.join(' ')}` : `sysctl ${c.ns ?? 'host'} ${c.sysctl}=${c.value}`));

test('NAT spec: one kind for all, mixed (every third symmetric), one per viewer, errors', () => {
  assert.deepEqual(parseNatSpec('cone', 3), ['cone', 'cone', 'cone']);
  assert.deepEqual(parseNatSpec('symmetric', 2), ['symmetric', 'symmetric']);
  assert.deepEqual(parseNatSpec('mixed', 6), ['cone', 'cone', 'symmetric', 'cone', 'cone', 'symmetric']);
  assert.deepEqual(parseNatSpec('cone, symmetric ,off', 3), ['cone', 'symmetric', null]);
  for (const [spec, n] of [['cone,cone', 3], ['full', 1], ['', 1], ['cone,,cone', 3]] as const) {
    const r = parseNatSpec(spec, n);
    assert.ok(!Array.isArray(r) && typeof r.error === 'string', `${spec}: ${JSON.stringify(r)}`);
  }
});

test('home router: its own namespace between viewer and bridge, the viewer on 192.168.77.0/24, forwarding only inside the router', () => {
  const n = labNames({ pid: 42, startTicks: 7 }, 'ab1z9');
  assert.equal(tagOfNamespace(n.router(3)), n.tag, 'a stale sweep finds router namespaces by their tag');
  assert.deepEqual(text(namespaceCommands(n, 2, ['cone', null])), [`ip netns add ${n.ns(0)}`, `ip netns add ${n.router(0)}`, `ip netns add ${n.ns(1)}`]);
  const cmds = text(viewerCommands(n, 42, 0, 4.5, 'cone'));
  const r = n.router(0);
  const v = n.ns(0);
  assert.ok(cmds.includes(`ip link add ${n.hostVeth(0)} type veth peer name eth0 netns ${r}`), 'the bridge reaches the router, not the viewer');
  assert.ok(cmds.includes(`ip -n ${r} addr add 10.213.42.2/24 dev eth0`), "the router's WAN address is the slot's lab address");
  assert.ok(cmds.includes(`ip -n ${r} route add default via 10.213.42.1 dev eth0`));
  assert.ok(cmds.includes(`ip -n ${r} link add ${NAT_LAN.lanLink} type veth peer name eth0 netns ${v}`));
  assert.ok(cmds.includes(`ip -n ${v} addr add 192.168.77.2/24 dev eth0`));
  assert.deepEqual(cmds.filter((c) => c.includes(' route ') && c.includes(v)), [`ip -n ${v} route add default via 192.168.77.1 dev eth0`]);
  assert.deepEqual(cmds.filter((c) => c.includes('ip_forward')), [`sysctl ${r} net/ipv4/ip_forward=1`], 'forwarding on in the router namespace only');
  assert.ok(cmds.includes(`tc -n ${v} qdisc add dev eth0 root tbf rate 4500000bit burst 16384 latency 100ms`), "the cap stays on the viewer's own link");
  for (const c of cmds) assert.doesNotMatch(c, / dev (?!eth0|lo\b|lan0|rcl)/, c);
  assert.ok(text(teardownCommands(n, 1)).includes(`ip netns del ${r}`));
});

test('NAT rules: cone keeps ports, symmetric randomizes them; nothing new comes in; only the lab subnet goes out; counters by destination', () => {
  const cone = natRuleset('cone', '10.213.42.1', '10.213.42.0/24');
  const sym = natRuleset('symmetric', '10.213.42.1', '10.213.42.0/24');
  assert.match(cone, /oifname "eth0" masquerade\n/);
  assert.match(sym, /oifname "eth0" masquerade fully-random\n/);
  for (const r of [cone, sym]) {
    assert.match(r, /hook input priority filter;[^}]*iifname "eth0" ct state new drop/);
    assert.match(r, /hook forward priority filter;[^}]*iifname "eth0" ct state new drop/);
    assert.match(r, /oifname "eth0" ip daddr != 10\.213\.42\.0\/24 drop/);
    assert.match(r, /ip daddr 10\.213\.42\.1 meta l4proto udp counter name to_public/);
    assert.match(r, /ip daddr != 10\.213\.42\.1 meta l4proto udp counter name to_viewers/);
  }
  assert.throws(() => natRuleset('cone', '10.213.42.1; flush ruleset', '10.213.42.0/24'));
  assert.throws(() => natRuleset('cone', '10.213.42.1', 'any'));
});

test('NAT counters: bytes and direct destinations from nft -j, nothing from junk', () => {
  const json = JSON.stringify({
    nftables: [
      { metainfo: { version: '1.0.6' } },
      { table: { family: 'ip', name: 'rclab_nat' } },
      { counter: { family: 'ip', name: 'to_public', table: 'rclab_nat', packets: 3, bytes: 1200 } },
      { counter: { family: 'ip', name: 'to_viewers', table: 'rclab_nat', packets: 1, bytes: 29 } },
      { set: { family: 'ip', name: 'direct', table: 'rclab_nat', type: ['ipv4_addr', 'inet_service'], elem: [{ concat: ['10.213.42.3', 7000] }] } },
    ],
  });
  assert.deepEqual(parseNatCounters(json), { toPublic: 1200, toViewers: 29, directTo: ['10.213.42.3:7000'] });
  assert.equal(parseNatCounters('not json'), undefined);
  assert.equal(parseNatCounters('{"nftables":[]}'), undefined);
  assert.equal(parseNatCounters('[1,2]'), undefined);
});

test('coturn: shared-secret auth, bound to the bridge, relaying to the lab subnet only; STUN binding check', () => {
  const args = coturnArgs({ host: '10.213.42.1', port: 3478, subnet: '10.213.42.0/24', secret: 's3cr3t-s3cr3t-s3cr3t', minPort: 40000, logFile: '/tmp/x/turn.log', pidFile: '/tmp/x/turn.pid' });
  for (const a of ['--use-auth-secret', '--static-auth-secret=s3cr3t-s3cr3t-s3cr3t', '--listening-ip=10.213.42.1', '--relay-ip=10.213.42.1', '--no-cli', '--no-tls', '--no-dtls']) assert.ok(args.includes(a), a);
  const denied = args.indexOf('--denied-peer-ip=0.0.0.0-255.255.255.255');
  const allowed = args.indexOf('--allowed-peer-ip=10.213.42.0-10.213.42.255');
  assert.ok(denied >= 0 && allowed >= 0);
  assert.ok(!args.some((a) => a.startsWith('--allow-loopback-peers')), 'no relaying to loopback');
  assert.throws(() => coturnArgs({ host: 'h', port: 1, subnet: '10.0.0.0/8', secret: 'x', minPort: 1, logFile: 'l', pidFile: 'p' }));
  const req = stunBindingRequest();
  assert.equal(req.length, 20);
  assert.equal(req.readUInt32BE(4), 0x2112a442);
  const ok = Buffer.from(req);
  ok.writeUInt16BE(0x0101, 0);
  assert.ok(isBindingSuccess(ok, req));
  const other = Buffer.from(ok);
  other[19] = (other[19] ?? 0) ^ 0xff;
  assert.ok(!isBindingSuccess(other, req), 'an answer to another transaction');
  assert.ok(!isBindingSuccess(Buffer.alloc(4), req));
});
