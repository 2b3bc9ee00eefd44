using FlyteSharp.Bundles;

namespace FlyteSharp.Execution.Dotnet;

/// <summary>A .NET bundle put into the run's store.</summary>
/// <param name="EntryAssemblyPath">The assembly on this machine it was made from.</param>
/// <param name="Bundle">The bundle.</param>
/// <param name="StoreUri">Its blob URI in the store.</param>
internal sealed record StoredDotnetBundle(string EntryAssemblyPath, DotnetBundle Bundle, string StoreUri);
