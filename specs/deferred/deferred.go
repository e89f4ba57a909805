// Package deferred holds a suite's top-level Ginkgo nodes until the suite is run. Ginkgo has one
// global spec tree per process and `var _ = Describe(…)` adds to it at package initialisation, so
// two suites linked into one binary (as wsgispec links both) would each run the other's specs
// too. A suite declares its top-level nodes on a Nodes value instead, and adds them to the tree
// just before RunSpecs.
package deferred

import "github.com/onsi/ginkgo/v2"

// Nodes is one suite's top-level nodes, in declaration order.
type Nodes struct{ declare []func() }

// Describe is ginkgo.Describe, deferred. It returns true so that it can stand in `var _ =`.
func (n *Nodes) Describe(text string, args ...any) bool {
	n.declare = append(n.declare, func() { ginkgo.Describe(text, args...) })
	return true
}

// BeforeEach is ginkgo.BeforeEach, deferred.
func (n *Nodes) BeforeEach(args ...any) bool {
	n.declare = append(n.declare, func() { ginkgo.BeforeEach(args...) })
	return true
}

// Declare adds the nodes to Ginkgo's tree; call it once, right before RunSpecs.
func (n *Nodes) Declare() {
	for _, d := range n.declare {
		d()
	}
	n.declare = nil
}
