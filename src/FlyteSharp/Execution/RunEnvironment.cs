using FlyteSharp.Configuration;
using FlyteSharp.Runs;

namespace FlyteSharp.Execution;

/// <summary>What a runtime instance lends each run it starts: its settings (root_dir included), its clock and its run store.</summary>
/// <param name="Config">Settings; <see cref="FlyteConfig.RootDir"/> is the run's root_dir.</param>
/// <param name="Time">The clock for every timestamp of the run.</param>
/// <param name="Store">The run store the run is recorded in.</param>
internal sealed record RunEnvironment(FlyteConfig Config, TimeProvider Time, RunStore Store);
