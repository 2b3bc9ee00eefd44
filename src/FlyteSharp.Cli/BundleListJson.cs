namespace FlyteSharp.Cli;

/// <summary>What <c>flytesharp bundle &lt;root_dir&gt; --list --json</c> prints: the files a bundle would ship.</summary>
internal sealed record BundleListJson(string RootDir, int FileCount, long Bytes, IReadOnlyList<BundleListFileJson> Files, IReadOnlyList<string> Warnings);
