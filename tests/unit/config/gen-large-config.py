#!/usr/bin/env python3
"""Writes a large valid vpcdns config for timing `vpcdnsd --check` (not a unit test).

usage: gen-large-config.py RULES VPCS > big.yaml
Every VPC is 10.0.0.0/16 on its own VLAN; rule i is forward d<i>.example.com, associated with the
first VPC and with VPC i mod VPCS.
"""
import sys


def main():
    rules, vpcs = int(sys.argv[1]), int(sys.argv[2])
    if not 1 <= vpcs <= 4094:
        sys.exit("VPCS must be 1..4094 (one VLAN each)")
    out = sys.stdout
    out.write('region: ap-southeast-2\naccount_id: "592752082067"\n')
    out.write('interfaces:\n  - {name: p0, device: net_null0}\nvpcs:\n')
    for v in range(vpcs):
        out.write(f'  - {{id: vpc-{v:05d}, interface: p0, vlan: {v + 1}, cidrs: [10.0.0.0/16]}}\n')
    out.write('endpoints:\n  - {id: out, direction: outbound, vpc: vpc-00000, '
              'addresses: [10.0.1.10, 10.0.1.11]}\nrules:\n')
    for r in range(rules):
        assoc = 'vpc-00000' if r % vpcs == 0 else f'vpc-{r % vpcs:05d}, vpc-00000'
        out.write(f'  - {{id: r{r}, type: forward, domain: d{r}.example.com, endpoint: out, '
                  f'targets: [192.168.{r % 250}.53], vpcs: [{assoc}]}}\n')


if __name__ == '__main__':
    main()
