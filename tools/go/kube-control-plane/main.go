// Command kube-control-plane is upstream Kubernetes's control plane in one binary, the way K3s
// ships its own: "kube-control-plane apiserver|controller-manager|scheduler [flags]" runs that
// component's own cobra command from k8s.io/kubernetes, unchanged. pytest-perfdata builds it
// because K3s's module is not served by the Go module proxy here; the records then name this
// distribution ("kubernetes"), never "k3s".
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"k8s.io/component-base/cli"
	apiserver "k8s.io/kubernetes/cmd/kube-apiserver/app"
	controllermanager "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	scheduler "k8s.io/kubernetes/cmd/kube-scheduler/app"
)

func main() {
	components := map[string]func() *cobra.Command{
		"apiserver":          func() *cobra.Command { return apiserver.NewAPIServerCommand() },
		"controller-manager": func() *cobra.Command { return controllermanager.NewControllerManagerCommand() },
		"scheduler":          func() *cobra.Command { return scheduler.NewSchedulerCommand() },
	}
	if len(os.Args) < 2 || components[os.Args[1]] == nil {
		fmt.Fprintln(os.Stderr, "usage: kube-control-plane apiserver|controller-manager|scheduler [flags]")
		os.Exit(2)
	}
	command := components[os.Args[1]]()
	command.SetArgs(os.Args[2:])
	os.Exit(cli.Run(command))
}
