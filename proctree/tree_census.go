package proctree

// CountContainers sets counts[c] to the number of live processes in each
// container c (counts is cleared first) and returns the number of live
// processes, kernel threads left out. It walks the whole tree: call it now
// and then, not per event.
func (t *Tree) CountContainers(counts map[*Container]int) int {
	clear(counts)
	n := 0
	for _, i := range t.byPID {
		nd := &t.nodes[i]
		if nd.flags&flagKernel != 0 {
			continue
		}
		n++
		if c := nd.inside(); c != nil {
			counts[c]++
		}
	}
	return n
}
