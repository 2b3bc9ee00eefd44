namespace FlyteSharp.Cli;

/// <summary>One file of <see cref="BundleListJson"/>: its path inside the bundle, size and execute bit.</summary>
internal sealed record BundleListFileJson(string Path, long Bytes, bool Executable);
