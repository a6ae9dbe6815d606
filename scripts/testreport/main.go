// Command testreport reads `go test -json` on stdin and prints a short
// report: one line per package, the full output of every failed test, and
// the counts. It exits 1 when a test or package failed or when no test ran,
// so that "no tests ran" is a failure, not a pass.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"sort"
)

type event struct {
	Action  string
	Package string
	Test    string
	Elapsed float64
	Output  string
}

func main() {
	output := map[string][]string{} // package/test -> output lines
	var failedTests []string
	var pkgLines []string
	passed, skipped, pkgFailed := 0, 0, 0
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var e event
		if json.Unmarshal(sc.Bytes(), &e) != nil {
			fmt.Println(sc.Text()) // build errors arrive as plain text
			continue
		}
		key := e.Package + " " + e.Test
		switch e.Action {
		case "output":
			output[key] = append(output[key], e.Output)
		case "pass":
			if e.Test != "" {
				passed++
			} else {
				pkgLines = append(pkgLines, fmt.Sprintf("ok    %s (%.1fs)", e.Package, e.Elapsed))
			}
		case "skip":
			if e.Test != "" {
				skipped++
			}
		case "fail":
			if e.Test != "" {
				failedTests = append(failedTests, key)
			} else {
				pkgFailed++
				pkgLines = append(pkgLines, fmt.Sprintf("FAIL  %s (%.1fs)", e.Package, e.Elapsed))
			}
		}
	}
	sort.Strings(pkgLines)
	for _, l := range pkgLines {
		fmt.Println(l)
	}
	for _, k := range failedTests {
		fmt.Printf("\n=== failed: %s\n", k)
		for _, l := range output[k] {
			fmt.Print(l)
		}
	}
	if pkgFailed > 0 && len(failedTests) == 0 {
		for k, lines := range output {
			if len(k) > 0 && k[len(k)-1] == ' ' { // package-level output (build failure, panic)
				fmt.Printf("\n=== %s\n", k)
				for _, l := range lines {
					fmt.Print(l)
				}
			}
		}
	}
	fmt.Printf("\n== tests: %d passed, %d failed, %d skipped; %d package(s) failed\n", passed, len(failedTests), skipped, pkgFailed)
	switch {
	case len(failedTests) > 0 || pkgFailed > 0:
		os.Exit(1)
	case passed == 0:
		fmt.Println("no tests ran: treating as failure")
		os.Exit(1)
	}
}
