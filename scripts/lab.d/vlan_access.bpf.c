// An 802.1Q access port for one lab host, in tc BPF because this kernel has neither the 8021q
// module nor bridge VLAN filtering: frames the host sends get tagged with LAB_VLAN on the way out,
// and only frames tagged LAB_VLAN come in (untagged). Everything else on the shared segment stays
// invisible to the host, as on a real VLAN. Built by scripts/lab with -DLAB_VLAN=N, once with
// -DLAB_INGRESS.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#ifndef LAB_VLAN
#error "build with -DLAB_VLAN=<vlan id>"
#endif

#define VLAN_VID_MASK 0x0fff

#ifdef LAB_INGRESS
// The kernel has already moved the tag into the skb's metadata when tc ingress runs.
SEC("tc")
int lab_vlan_ingress(struct __sk_buff *skb)
{
	if (!skb->vlan_present || (skb->vlan_tci & VLAN_VID_MASK) != LAB_VLAN)
		return TC_ACT_SHOT;
	if (bpf_skb_vlan_pop(skb) != 0)
		return TC_ACT_SHOT;
	return TC_ACT_OK;
}
#else
SEC("tc")
int lab_vlan_egress(struct __sk_buff *skb)
{
	if (bpf_skb_vlan_push(skb, bpf_htons(ETH_P_8021Q), LAB_VLAN) != 0)
		return TC_ACT_SHOT;
	return TC_ACT_OK;
}
#endif

char LICENSE[] SEC("license") = "GPL";
