using FlyteSharp.Cli;

// An exception on another thread ends the process whatever we do: report it like any internal error first.
AppDomain.CurrentDomain.UnhandledException += (_, e) =>
    Environment.Exit(InternalErrorReport.Report(e.ExceptionObject as Exception ?? new InvalidOperationException(e.ExceptionObject?.ToString()), Console.Error));

return await FlyteCli.RunAsync(args, Console.Out, Console.Error);
