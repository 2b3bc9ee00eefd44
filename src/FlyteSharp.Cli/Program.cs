using FlyteSharp.Cli;

return await FlyteCli.RunAsync(args, Console.Out, Console.Error);
