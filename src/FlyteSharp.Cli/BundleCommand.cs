using System.CommandLine;
using System.CommandLine.Help;
using System.Diagnostics;
using FlyteSharp.Bundles;
using FlyteSharp.Configuration;
using FlyteSharp.Storage;

namespace FlyteSharp.Cli;

/// <summary>
/// <c>flytesharp bundle &lt;root_dir&gt; [--json] [--output FILE] [--store URI]</c>: builds the code bundle and stores it
/// (in the configured store unless <c>--store</c> names another); <c>--list</c> only prints the files it would hold;
/// <c>flytesharp bundle extract &lt;uri-or-file&gt; &lt;dest&gt;</c>
/// verifies and unpacks one.
/// </summary>
internal static class BundleCommand
{
    private const string DigestPrefix = "sha256:";

    private static readonly System.Buffers.SearchValues<char> LowerHex = System.Buffers.SearchValues.Create("0123456789abcdef");

    public static Command Create(CliConsole console)
    {
        var rootDir = new Argument<string>("root_dir") { Description = "The directory you would cd into before `python -c \"import my_module\"` (src/ for src layout)." };
        var json = new Option<bool>("--json") { Description = "Print digest, files, bytes and uri as JSON (with --list: the file list)." };
        var list = new Option<bool>("--list") { Description = "Only list the files the bundle would ship (path and size), without building or storing it." };
        var output = new Option<string?>("--output", "-o") { Description = "Also write the archive to this file." };
        var store = new Option<string?>("--store") { Description = "Store URI (file:///path or oci://host/repository); default: the configured store." };
        var command = new Command("bundle", "Build the code bundle of root_dir: a deterministic tar.gz, stored by digest.") { rootDir, json, list, output, store };
        command.SetAction(async (parse, ct) =>
        {
            if (parse.GetValue(output) is { } target)
            {
                // The archive is renamed over --output: a directory would fail late, and a device or FIFO (as root,
                // /dev/null) would be replaced by a plain file, so both are refused before any work.
                AtomicFile.CheckTarget(target, "--output", "--output bundle.tar.gz");
            }

            var config = FlyteConfig.Load();
            if (parse.GetValue(list))
            {
                return List(console, parse.GetValue(rootDir)!, parse.GetValue(json));
            }

            var progress = console.IsInteractive ? new TerminalProgress(console.Out) : null;
            var options = BundleOptions.For(config) with { Progress = progress, Warning = w => console.Error.WriteLine($"warning: {w}") };
            var bundle = await CodeBundler.CreateAsync(parse.GetValue(rootDir)!, options, ct);
            progress?.Clear();

            string uri;
            await using (var blobStore = BlobStores.Open(parse.GetValue(store) ?? config.EffectiveStoreUri, config))
            {
                uri = await blobStore.PutAsync(bundle.Digest, bundle.ArchivePath, ct);
            }

            if (parse.GetValue(output) is { } file)
            {
                await AtomicFile.WriteAsync(file, async (stream, token) =>
                {
                    await using var input = File.OpenRead(bundle.ArchivePath);
                    await input.CopyToAsync(stream, token);
                }, ct);
            }

            if (parse.GetValue(json))
            {
                console.Out.WriteLine(CliJson.Serialize(new BundleJson(bundle.Digest, bundle.FileCount, bundle.Bytes, uri)));
            }
            else
            {
                console.Out.WriteLine($"digest  {bundle.Digest}");
                console.Out.WriteLine($"files   {bundle.FileCount}");
                console.Out.WriteLine($"bytes   {bundle.Bytes}");
                console.Out.WriteLine($"uri     {uri}");
            }

            return 0;
        });

        command.Subcommands.Add(CreateExtract(console));
        return command;
    }

    /// <summary>The selection alone: what a bundle of <paramref name="rootDir"/> would ship, and why it might ship a secret.</summary>
    private static int List(CliConsole console, string rootDir, bool json)
    {
        var root = BundleFiles.CheckRoot(rootDir);
        var warnings = BundleFiles.Warnings(root).ToList();
        var files = BundleFiles.Select(root, warnings.Add);
        foreach (var warning in warnings)
        {
            console.Error.WriteLine($"warning: {warning}");
        }

        if (json)
        {
            console.Out.WriteLine(CliJson.Serialize(new BundleListJson(
                root, files.Count, files.Sum(f => f.Length), [.. files.Select(f => new BundleListFileJson(f.RelativePath, f.Length, f.Executable))], warnings)));
            return 0;
        }

        foreach (var file in files)
        {
            console.Out.WriteLine($"{file.Length,12}  {file.RelativePath}");
        }

        console.Out.WriteLine($"{files.Count} file(s), {files.Sum(f => f.Length)} bytes under {root}");
        return 0;
    }

    private static Command CreateExtract(CliConsole console)
    {
        var source = new Argument<string>("uri-or-file") { Description = "A bundle URI printed by `flytesharp bundle` (oci://…@sha256:…, file://…) or a local .tar.gz." };
        var destination = new Argument<string>("dest") { Description = "Directory to create (or an empty one)." };
        var digestOption = new Option<string?>("--digest") { Description = "Expected sha256 digest of a local archive (default: from a <hex>.tar.gz file name)." };
        var command = new Command("extract", "Verify a bundle's digest and unpack it safely into dest.") { source, destination, digestOption };
        command.Options.Add(OwnUsageHelp(command, "flytesharp bundle extract <uri-or-file> <dest> [options]"));
        command.SetAction(async (parse, ct) =>
        {
            var config = FlyteConfig.Load();
            var from = parse.GetValue(source)!;
            var dest = parse.GetValue(destination)!;
            string archive, digest;
            if (from.Contains("://", StringComparison.Ordinal))
            {
                (var storeUri, digest) = BlobStores.ParseBlobUri(from);
                archive = Path.Combine(config.Home, "cache", "downloads", Hex(digest) + ".tar.gz");
                if (!File.Exists(archive))
                {
                    await using var blobStore = BlobStores.Open(storeUri, config);
                    await blobStore.GetAsync(digest, archive, ct);
                }
            }
            else
            {
                archive = from;
                if (!File.Exists(archive))
                {
                    throw new FlyteSharpException("bundle archive not found", Path.GetFullPath(archive), fix: "check the path, or pass the URI `flytesharp bundle` printed");
                }

                var name = Path.GetFileName(archive);
                var fromName = "sha256:" + (name.EndsWith(".tar.gz", StringComparison.Ordinal) ? name[..^7] : name);
                digest = parse.GetValue(digestOption) ?? (IsDigest(fromName) ? fromName : "");
                if (digest.Length == 0)
                {
                    throw new FlyteSharpException("no expected digest for a local archive", Path.GetFullPath(archive),
                        fix: "pass --digest sha256:<hex> (what `flytesharp bundle` printed), so the archive is verified before unpacking");
                }
            }

            await BundleExtractor.ExtractAsync(archive, digest, dest, cancellationToken: ct);
            console.Out.WriteLine($"extracted {digest} into {Path.GetFullPath(dest)}");
            return 0;
        });
        return command;
    }

    /// <summary>
    /// A help option for a subcommand of <c>bundle</c>: the default help would put the parent's required
    /// <c>&lt;root_dir&gt;</c> into the usage line and argument list, though the subcommand never takes it
    /// (System.CommandLine 3.0 keeps its help layout internal, so this writes the same sections itself).
    /// </summary>
    private static HelpOption OwnUsageHelp(Command command, string usage)
    {
        var help = new HelpOption();
        help.Action = new WriteHelp(command, usage);
        return help;
    }

    private sealed class WriteHelp(Command command, string usage) : System.CommandLine.Invocation.SynchronousCommandLineAction
    {
        public override bool ClearsParseErrors => true;

        public override int Invoke(ParseResult parseResult)
        {
            var output = parseResult.InvocationConfiguration.Output;
            output.WriteLine("Description:");
            output.WriteLine("  " + command.Description);
            output.WriteLine();
            output.WriteLine("Usage:");
            output.WriteLine("  " + usage);
            output.WriteLine();
            Section(output, "Arguments:", command.Arguments.Select(a => ($"<{a.Name}>", a.Description ?? "")));
            Section(output, "Options:", command.Options.Where(o => !o.Hidden).Select(o =>
            {
                var names = string.Join(", ", o.Aliases.Append(o.Name).Where(n => !n.StartsWith('/')).OrderBy(n => n.Length).ThenBy(n => n, StringComparer.Ordinal));
                var value = o is HelpOption || o.ValueType == typeof(bool) ? "" : $" <{o.Name.TrimStart('-')}>";
                return (names + value, o.Description ?? "");
            }));
            return 0;
        }

        private static void Section(TextWriter output, string title, IEnumerable<(string Label, string Text)> rows)
        {
            var list = rows.ToList();
            if (list.Count == 0)
            {
                return;
            }

            output.WriteLine(title);
            var width = list.Max(r => r.Label.Length);
            foreach (var (label, text) in list)
            {
                output.WriteLine($"  {label.PadRight(width)}  {text}");
            }

            output.WriteLine();
        }
    }

    /// <summary>True for a well-formed OCI content digest, <c>sha256:&lt;64 lowercase hex&gt;</c> (the form blob URIs carry).</summary>
    private static bool IsDigest(string? digest) =>
        digest is { Length: 71 } && digest.StartsWith(DigestPrefix, StringComparison.Ordinal) && digest.AsSpan(DigestPrefix.Length).ContainsAnyExcept(LowerHex) is false;

    /// <summary>The hex part of a digest, or a clear error when it is not one.</summary>
    private static string Hex(string digest) => IsDigest(digest) ? digest[DigestPrefix.Length..]
        : throw new FlyteSharpException($"'{digest}' is not a sha256 digest", fix: "use the form sha256:<64 lowercase hex digits>, as `flytesharp bundle` prints it");

    /// <summary>One status line, redrawn at most ten times a second (only used when stdout is a terminal).</summary>
    private sealed class TerminalProgress(TextWriter output) : IProgress<BundleProgress>
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private TimeSpan _last = TimeSpan.FromSeconds(-1);
        private bool _drawn;

        public void Report(BundleProgress value)
        {
            if (_clock.Elapsed - _last < TimeSpan.FromMilliseconds(100) && value.FilesDone < value.FileCount)
            {
                return;
            }

            _last = _clock.Elapsed;
            _drawn = true;
            output.Write($"\rbundling {value.FilesDone}/{value.FileCount} files, {value.BytesDone / 1048576.0:F1}/{value.TotalBytes / 1048576.0:F1} MB ");
        }

        public void Clear()
        {
            if (_drawn)
            {
                output.Write("\r\u001b[K");
            }
        }
    }
}

internal sealed record BundleJson(string Digest, int Files, long Bytes, string Uri);
