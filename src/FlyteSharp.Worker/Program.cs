using System.Runtime.InteropServices;
using FlyteSharp.Worker;

// `podman stop` / a pod's termination sends SIGTERM: the task's cancellation token fires and the worker still replies.
using var stop = new CancellationTokenSource();
using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, signal =>
{
    signal.Cancel = true;
    stop.Cancel();
});
using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, signal =>
{
    signal.Cancel = true;
    stop.Cancel();
});
var code = await DotnetWorker.RunAsync(args, Console.Out, Console.Error, stop.Token).ConfigureAwait(false);
// The worker's work ends here: a foreground thread that task code left running would otherwise keep the process, and with
// it the container (a retired replica's, a finished action's), alive until the driver kills it.
Environment.Exit(code);
return code;
