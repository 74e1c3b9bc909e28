package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/pstrace/pstrace/tracer"
)

// filterResult is the records that crossed the ring buffer during a mixed
// workload: one storm that the filter should pass and one it should not.
type filterResult struct {
	Name                 string
	Wanted, Unwanted     int // records about each storm's processes
	Other                int // records about the rest of the host
	Lost                 uint64
	WantedSpawns, Spawns int
}

func (f filterResult) total() int { return f.Wanted + f.Unwanted + f.Other }

// filterSpawns is the size of each of the two storms.
const filterSpawns = 300

func measureFilter(storm string) ([]filterResult, error) {
	cases := []struct {
		name   string
		scope  tracer.Scope
		follow bool
	}{
		{name: "no filter"},
		{name: "--pid (followed subtree)", follow: true},
		{name: "--comm true", scope: tracer.Scope{Comms: []string{"true"}}},
	}
	var out []filterResult
	for _, c := range cases {
		r, err := filterRun(storm, c.name, c.scope, c.follow)
		if err != nil {
			return nil, fmt.Errorf("filter %s: %w", c.name, err)
		}
		progress("filter %-26s records %d (wanted storm %d, other storm %d, rest of host %d)",
			c.name, r.total(), r.Wanted, r.Unwanted, r.Other)
		out = append(out, r)
	}
	return out, nil
}

// filterRun traces, under one filter, a storm of /bin/true (the wanted one)
// next to a storm of /bin/false.
func filterRun(storm, name string, scope tracer.Scope, follow bool) (filterResult, error) {
	res := filterResult{Name: name}
	wanted, err := startGated(storm, "-n", fmt.Sprint(filterSpawns), "-path", "/bin/true")
	if err != nil {
		return res, err
	}
	unwanted, err := startGated(storm, "-n", fmt.Sprint(filterSpawns), "-path", "/bin/false")
	if err != nil {
		wanted.kill()
		return res, err
	}
	if follow {
		scope.PID = int(wanted.PID)
	}
	tr, err := tracer.Open(tracer.Options{Scope: scope})
	if err != nil {
		wanted.kill()
		unwanted.kill()
		return res, err
	}
	defer tr.Close()

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var readErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		readErr = tr.Run(ctx, func(ev *tracer.Event) error {
			switch {
			case ev.Type == tracer.TypeLost:
				res.Lost += ev.LostCount
			case ev.PID == wanted.PID || ev.PPID == wanted.PID:
				res.Wanted++
			case ev.PID == unwanted.PID || ev.PPID == unwanted.PID:
				res.Unwanted++
			default:
				res.Other++
			}
			return nil
		}, nil)
	}()
	var errs []error
	for _, g := range []*gatedStorm{wanted, unwanted} {
		errs = append(errs, g.release())
	}
	for i, g := range []*gatedStorm{wanted, unwanted} {
		st, err := g.wait()
		errs = append(errs, err)
		res.Spawns += st.Spawns
		if i == 0 {
			res.WantedSpawns = st.Spawns
		}
	}
	time.Sleep(settle)
	cancel()
	wg.Wait()
	errs = append(errs, readErr)
	return res, errors.Join(errs...)
}
