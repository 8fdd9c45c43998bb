/**
 * Client addresses for the per-client limits (client-address.ts): X-Forwarded-For only from trusted
 * proxies, read from the right to the first untrusted address; malformed elements stop the walk;
 * IPv4-mapped IPv6 is IPv4; IPv6 clients are keyed by their network (default /64).
 */
import assert from 'node:assert/strict'
import type { IncomingMessage } from 'node:http'
import { ClientAddresses, clientKey, normalize } from '../src/http/client-address.js'

function req (remoteAddress: string | undefined, xff?: string | string[]): IncomingMessage {
  return { socket: { remoteAddress }, headers: xff === undefined ? {} : { 'x-forwarded-for': xff } } as unknown as IncomingMessage
}

describe('client addresses', () => {
  const proxied = new ClientAddresses({ trustedProxies: ['10.0.0.0/8', '192.0.2.7', 'fd00::/8'], ipv6Prefix: 64 })
  const direct = new ClientAddresses({ trustedProxies: [], ipv6Prefix: 64 })

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', () => {
    assert.equal(direct.address(req('203.0.113.5', '198.51.100.1')), '203.0.113.5')
    assert.equal(proxied.address(req('203.0.113.5', '198.51.100.1')), '203.0.113.5', 'an untrusted peer cannot choose its address')
  })

  it('from a trusted proxy: the rightmost address that is not a trusted proxy', () => {
    assert.equal(proxied.address(req('10.1.2.3', '198.51.100.1')), '198.51.100.1')
    // A client-supplied first element is not believed: the walk stops at the first untrusted hop from the right.
    assert.equal(proxied.address(req('10.1.2.3', '1.1.1.1, 198.51.100.1, 10.9.9.9')), '198.51.100.1')
    assert.equal(proxied.address(req('192.0.2.7', '198.51.100.1,192.0.2.7')), '198.51.100.1')
    assert.equal(proxied.address(req('::ffff:10.1.2.3', '198.51.100.1')), '198.51.100.1', 'an IPv4-mapped proxy address is its IPv4 address')
    assert.equal(proxied.address(req('fd12::1', '2001:db8::5')), '2001:db8::5')
    assert.equal(proxied.address(req('10.1.2.3', '[2001:DB8::5]')), '2001:db8::5', 'brackets and case')
  })

  it('from a trusted proxy without the header, or with only trusted hops: the last trusted address', () => {
    assert.equal(proxied.address(req('10.1.2.3')), '10.1.2.3')
    assert.equal(proxied.address(req('10.1.2.3', '10.4.4.4, 10.5.5.5')), '10.4.4.4')
  })

  it('malformed elements stop the walk at the last good address', () => {
    assert.equal(proxied.address(req('10.1.2.3', 'not-an-ip')), '10.1.2.3')
    assert.equal(proxied.address(req('10.1.2.3', '198.51.100.1, garbage, 10.4.4.4')), '10.4.4.4')
    assert.equal(proxied.address(req('10.1.2.3', '198.51.100.1:8080')), '10.1.2.3', 'a port is not an address')
    assert.equal(proxied.address(req('10.1.2.3', '')), '10.1.2.3')
    assert.equal(proxied.address(req('10.1.2.3', ', ,')), '10.1.2.3')
    assert.equal(proxied.address(req('10.1.2.3', 'fe80::1%eth0')), '10.1.2.3', 'zoned addresses are not client addresses')
    assert.equal(proxied.address(req('10.1.2.3', '999.1.1.1')), '10.1.2.3')
    // A long chain of trusted hops is walked only so far (32 elements).
    assert.equal(proxied.address(req('10.1.2.3', ['198.51.100.1', ...Array.from({ length: 40 }, () => '10.0.0.1')].join(','))), '10.0.0.1')
    assert.equal(direct.address(req(undefined)), 'unknown')
  })

  it('IPv6 clients are keyed per /64 (configurable), IPv4 per address', () => {
    assert.equal(direct.key(req('2001:db8:1:2:aaaa::1')), '2001:db8:1:2::/64')
    assert.equal(direct.key(req('2001:db8:1:2:ffff:ffff:ffff:ffff')), '2001:db8:1:2::/64', 'the same /64, the same key')
    assert.notEqual(direct.key(req('2001:db8:1:3::1')), direct.key(req('2001:db8:1:2::1')), 'another /64, another key')
    assert.equal(direct.key(req('::ffff:198.51.100.9')), '198.51.100.9')
    assert.equal(direct.key(req('198.51.100.9')), '198.51.100.9')
    assert.equal(clientKey('2001:db8:abcd:12ff::1', 56), '2001:db8:abcd:1200::/56')
    assert.equal(clientKey('2001:db8::1', 128), '2001:db8::1/128')
    assert.equal(clientKey('::1', 64), '::/64')
    assert.equal(clientKey('1:2:3:4:5:6:1.2.3.4', 96), '1:2:3:4:5:6::/96')
    assert.equal(new ClientAddresses({ trustedProxies: [], ipv6Prefix: 48 }).key(req('2001:db8:7:8::1')), '2001:db8:7::/48')
  })

  it('normalize accepts only addresses', () => {
    assert.equal(normalize('::FFFF:1.2.3.4'), '1.2.3.4')
    assert.equal(normalize('1.2.3'), undefined)
    assert.equal(normalize('[::1]'), '::1')
    assert.equal(normalize('example.com'), undefined)
  })
})
