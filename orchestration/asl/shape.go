package asl

import (
	"fmt"
	"sort"
)

// CheckShape checks what Parse does not: that from every state of the
// machine, and of every Parallel branch, some end (End, Succeed or Fail)
// can be reached, so no path loops forever by construction. (Parse has
// already checked that every transition names a state and that every state
// is reachable.)
func (m *StateMachine) CheckShape() error {
	var problems []Problem
	m.checkShape("", &problems)
	if len(problems) > 0 {
		return &DefinitionError{Problems: sortedProblems(problems)}
	}
	return nil
}

func (m *StateMachine) checkShape(prefix string, problems *[]Problem) {
	ends := map[string]bool{}
	for name, s := range m.States {
		if s.End || s.Type == "Succeed" || s.Type == "Fail" {
			ends[name] = true
		}
	}
	// Grow the set of states that can reach an end until it stops growing.
	for changed := true; changed; {
		changed = false
		for name, s := range m.States {
			if ends[name] {
				continue
			}
			for _, t := range s.transitions() {
				if ends[t.target] {
					ends[name], changed = true, true
					break
				}
			}
		}
	}
	names := m.Names()
	for _, name := range names {
		at := name
		if prefix != "" {
			at = prefix + "." + name
		}
		if !ends[name] {
			*problems = append(*problems, Problem{State: at, Message: "no path from this state reaches an end"})
		}
		for i, b := range m.States[name].Branches {
			b.checkShape(fmt.Sprintf("%s.Branches[%d]", at, i), problems)
		}
	}
}

// Compensations lists, for every Task state that has a Catch, the Task
// states its catchers lead to, in the order an execution meets them
// (following Next first, then Choice rules, then Default). For a saga this
// is the compensation chain each forward step can trigger, so a test can
// assert that compensations run in reverse order of the steps.
func (m *StateMachine) Compensations() map[string][]string {
	out := map[string][]string{}
	for _, name := range m.Names() {
		s := m.States[name]
		if s.Type != "Task" || len(s.Catch) == 0 {
			continue
		}
		seen := map[string]bool{name: true}
		var tasks []string
		var walk func(string)
		walk = func(n string) {
			st, ok := m.States[n]
			if !ok || seen[n] {
				return
			}
			seen[n] = true
			if st.Type == "Task" {
				tasks = append(tasks, n)
			}
			if st.Next != "" {
				walk(st.Next)
			}
			for _, c := range st.Choices {
				walk(c.Next)
			}
			if st.Default != "" {
				walk(st.Default)
			}
			for _, c := range st.Catch {
				walk(c.Next)
			}
		}
		for _, c := range s.Catch {
			walk(c.Next)
		}
		out[name] = tasks
	}
	return out
}

// sortedProblems orders problems for stable messages.
func sortedProblems(p []Problem) []Problem {
	sort.Slice(p, func(i, j int) bool {
		if p[i].State != p[j].State {
			return p[i].State < p[j].State
		}
		return p[i].Field < p[j].Field
	})
	return p
}
