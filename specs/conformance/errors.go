package conformance

import (
	. "github.com/onsi/ginkgo/v2"

	"github.com/wsgispec/wsgispec/specs/catalog"
)

// errorsAnswer is what /errors reports per operation on wsgi.errors.
type errorsAnswer map[string]struct {
	OK    bool   `json:"ok"`
	Error string `json:"error"`
}

var _ = nodes.Describe("wsgi.errors", func() {
	DescribeTable("writing to the error stream",
		func(ctx SpecContext, id, op, call string) {
			k := newCheck(catalog.MustLookup(id))
			k.expect("wsgi.errors.%s returns without raising", call)
			x := k.do(request{path: probePath("/errors", "ops", op)})
			var a errorsAnswer
			k.probeJSON(x, &a)
			if r := a[op]; !r.OK {
				k.failf("wsgi.errors.%s raised %s", call, r.Error)
			}
			k.saw("wsgi.errors.%s returned", call)
		},
		caseEntry("errors.write", "write", `write("wsgispec probe: wsgi.errors.write\n")`),
		caseEntry("errors.writelines", "writelines", `writelines(["...1\n", "...2\n"])`),
		caseEntry("errors.flush", "flush", "flush()"),
		caseEntry("errors.unicode", "unicode", `write("caf\u00e9 \u20ac \u4e2d\u6587 \U0001f600\n") then flush()`),
	)
})
