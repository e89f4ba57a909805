//go:build cgo && gateway

package gateway

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

// allowList is the set of proxy addresses whose X-Forwarded-* headers are believed
// (gunicorn's --forwarded-allow-ips convention: addresses or CIDR ranges, "*" for any).
type allowList struct {
	any      bool
	prefixes []netip.Prefix
}

func parseAllowList(entries []string) (*allowList, error) {
	al := &allowList{}
	for _, e := range entries {
		for _, item := range strings.Split(e, ",") {
			item = strings.TrimSpace(item)
			switch {
			case item == "":
			case item == "*":
				al.any = true
			case strings.Contains(item, "/"):
				p, err := netip.ParsePrefix(item)
				if err != nil {
					return nil, fmt.Errorf("forwarded_allow_ips: %q is not an address or CIDR range", item)
				}
				al.prefixes = append(al.prefixes, p.Masked())
			default:
				a, err := netip.ParseAddr(item)
				if err != nil {
					return nil, fmt.Errorf("forwarded_allow_ips: %q is not an address or CIDR range", item)
				}
				al.prefixes = append(al.prefixes, netip.PrefixFrom(a, a.BitLen()))
			}
		}
	}
	return al, nil
}

func (al *allowList) allows(remote string) bool {
	if al.any {
		return true
	}
	a, err := netip.ParseAddr(remote)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, p := range al.prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// forwarded applies a trusted proxy's X-Forwarded-Proto and X-Forwarded-For: the scheme the
// client used, and the client's address as the proxy saw it (the last hop it appended).
func forwarded(r *http.Request, remote string, https bool) (string, bool) {
	if proto := r.Header.Get("X-Forwarded-Proto"); proto != "" {
		https = strings.EqualFold(strings.TrimSpace(proto), "https")
	}
	if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
		last := xff[len(xff)-1]
		if i := strings.LastIndexByte(last, ','); i >= 0 {
			last = last[i+1:]
		}
		if a, err := netip.ParseAddr(strings.TrimSpace(last)); err == nil {
			remote = a.String()
		}
	}
	return remote, https
}
