using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;

namespace FlyteSharp.Tests.Bundles;

/// <summary>
/// The one corpus of crafted archives that both bundle extractors are run against (the C# <c>BundleExtractor</c> and
/// the Python runner's <c>fetch_bundle</c>): <see cref="Refused"/> cases every extractor must refuse with nothing
/// written inside or outside the destination, <see cref="Accepted"/> cases every extractor must unpack to the same tree.
/// Each archive starts with a harmless <c>ok.py</c>, which must not survive a refusal either.
/// </summary>
internal static class ExtractionCorpus
{
    /// <summary>Caps the corpus is extracted with (small, so the cap cases stay small).</summary>
    public const int MaxEntries = 10;

    /// <summary>Byte cap the corpus is extracted with.</summary>
    public const long MaxTotalBytes = 4096;

    /// <summary>The file an escape would write, inside the <c>outside</c> directory next to the archive.</summary>
    public const string Pwned = "pwned.txt";

    public static TheoryData<string> Refused() =>
    [
        // names
        "absolute-path", "dotdot-escape", "nested-dotdot", "drive-letter", "backslash", "backslash-dotdot", "names-destination",
        "gnu-long-name-dotdot", "pax-long-name-dotdot",
        // links, alone and in chains
        "symlink-escape", "symlink-then-write-through", "symlink-inside", "symlink-then-file-of-same-name",
        "chain-dot-then-file", "chain-deep-to-absolute-path", "chain-link-then-directory", "directory-then-symlink",
        "hardlink-escape", "hardlink-inside-then-write",
        // other entry types
        "char-device", "block-device", "fifo", "pax-global-header", "pax-sparse-file",
        // caps
        "too-many-entries", "too-large",
        // clashes
        "duplicate-file", "duplicate-file-via-dot-slash", "duplicate-directory", "file-then-directory", "file-then-file-below",
        "directory-then-file", "implied-directory-then-file",
    ];

    public static TheoryData<string> Accepted() =>
    [
        "dot-slash-directories", "implied-then-explicit-directory", "long-names", "modes", "v7-directory-with-slash", "colon-names", "empty-file",
    ];

    /// <summary>Writes the archive of case <paramref name="kind"/> to <paramref name="path"/>; returns its (correct) digest.</summary>
    /// <param name="kind">A case of <see cref="Refused"/> or <see cref="Accepted"/>.</param>
    /// <param name="path">Where the <c>.tar.gz</c> goes.</param>
    /// <param name="outside">An existing directory outside every destination: what an escape would write into.</param>
    public static string Write(string kind, string path, string outside)
    {
        var pwned = Path.Combine(outside, Pwned);
        using (var stream = File.Create(path))
        using (var gzip = new GZipStream(stream, CompressionLevel.Fastest))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Gnu))
        {
            tar.WriteEntry(File_("ok.py", "fine"));
            foreach (var entry in Entries(kind, outside, pwned))
            {
                tar.WriteEntry(entry);
            }
        }

        return "sha256:" + Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));
    }

    private static IEnumerable<TarEntry> Entries(string kind, string outside, string pwned)
    {
        var outsideRelative = outside.TrimStart('/');
        switch (kind)
        {
            case "absolute-path":
                yield return File_(pwned);
                break;
            case "dotdot-escape":
                yield return File_($"../outside/{Pwned}");
                break;
            case "nested-dotdot":
                yield return File_($"a/b/../../../outside/{Pwned}");
                break;
            case "drive-letter":
                yield return File_("C:/outside/pwned.txt");
                break;
            case "backslash":
                yield return File_(@"a\b.py"); // unpacked on POSIX it would be directory a, file b.py (or one odd name)
                break;
            case "backslash-dotdot":
                yield return File_(@"..\outside\pwned.txt");
                break;
            case "names-destination":
                yield return File_("./");
                break;
            case "gnu-long-name-dotdot":
                yield return File_(new string('a', 120) + $"/../../outside/{Pwned}");
                break;
            case "pax-long-name-dotdot":
                yield return new PaxTarEntry(TarEntryType.RegularFile, new string('b', 120) + $"/../../outside/{Pwned}") { DataStream = Data("evil") };
                break;

            case "symlink-escape":
                yield return Link(TarEntryType.SymbolicLink, "link", outside);
                break;
            case "symlink-then-write-through":
                yield return Link(TarEntryType.SymbolicLink, "link", "../outside");
                yield return File_($"link/{Pwned}");
                break;
            case "symlink-inside":
                yield return Link(TarEntryType.SymbolicLink, "alias.py", "ok.py"); // harmless, but bundles never hold links
                break;
            case "symlink-then-file-of-same-name":
                // Lexically inside; physically the file is written through the link unless the final component is not followed.
                yield return Link(TarEntryType.SymbolicLink, "s", ".");
                yield return Link(TarEntryType.SymbolicLink, "t", $"s/../outside/{Pwned}");
                yield return File_("t");
                break;
            case "chain-dot-then-file":
                // The issue's minimal archive: s -> ., t -> s/../X, then a regular file t writes X next to the staging directory.
                yield return Link(TarEntryType.SymbolicLink, "s", ".");
                yield return Link(TarEntryType.SymbolicLink, "t", "s/../X");
                yield return File_("t");
                break;
            case "chain-deep-to-absolute-path":
                // Lexically a/a/…/a/../../…/.. cancels out, so the target looks like 'tmp/…/outside/pwned.txt' inside the
                // destination; physically a -> . keeps every a at the top, and the 64 '..' climb to '/': an absolute path.
                yield return Link(TarEntryType.SymbolicLink, "a", ".");
                yield return Link(TarEntryType.SymbolicLink, "t", string.Concat(Enumerable.Repeat("a/", 64)) + string.Concat(Enumerable.Repeat("../", 64)) + $"{outsideRelative}/{Pwned}");
                yield return File_("t");
                break;
            case "chain-link-then-directory":
                yield return Link(TarEntryType.SymbolicLink, "s", ".");
                yield return Link(TarEntryType.SymbolicLink, "d", "s/../outside");
                yield return new GnuTarEntry(TarEntryType.Directory, "d/");
                yield return File_($"d/{Pwned}");
                break;
            case "directory-then-symlink":
                yield return new GnuTarEntry(TarEntryType.Directory, "d/");
                yield return Link(TarEntryType.SymbolicLink, "d", "../outside");
                yield return File_($"d/{Pwned}");
                break;
            case "hardlink-escape":
                yield return Link(TarEntryType.HardLink, "hard", pwned);
                break;
            case "hardlink-inside-then-write":
                yield return Link(TarEntryType.HardLink, "h", "ok.py");
                yield return File_("h", "overwrites ok.py through the link");
                break;

            case "char-device":
                yield return new GnuTarEntry(TarEntryType.CharacterDevice, "null") { DeviceMajor = 1, DeviceMinor = 3 };
                break;
            case "block-device":
                yield return new GnuTarEntry(TarEntryType.BlockDevice, "sda") { DeviceMajor = 8, DeviceMinor = 0 };
                break;
            case "fifo":
                yield return new GnuTarEntry(TarEntryType.Fifo, "pipe");
                break;
            case "pax-global-header":
                // A global 'path' renames every later entry: tools that honour it would write ../outside/pwned.txt.
                yield return new PaxGlobalExtendedAttributesTarEntry(new Dictionary<string, string> { ["path"] = $"../outside/{Pwned}" });
                yield return File_("innocent.py");
                break;
            case "pax-sparse-file":
                yield return new PaxTarEntry(TarEntryType.RegularFile, "sparse.bin", new Dictionary<string, string>
                {
                    ["GNU.sparse.major"] = "1", ["GNU.sparse.minor"] = "0", ["GNU.sparse.name"] = "sparse.bin", ["GNU.sparse.realsize"] = "1000",
                }) { DataStream = Data("1\n0\n4\n" + new string('\0', 506) + "evil") };
                break;

            case "too-many-entries":
                for (var i = 0; i < 20; i++)
                {
                    yield return File_($"f{i}.py");
                }

                break;
            case "too-large":
                yield return File_("big.bin", new string('x', 5000));
                break;

            case "duplicate-file":
                yield return File_("ok.py", "overwritten");
                break;
            case "duplicate-file-via-dot-slash":
                yield return File_("./ok.py", "overwritten");
                break;
            case "duplicate-directory":
                yield return new GnuTarEntry(TarEntryType.Directory, "pkg/");
                yield return new GnuTarEntry(TarEntryType.Directory, "./pkg");
                break;
            case "file-then-directory":
                yield return File_("a");
                yield return new GnuTarEntry(TarEntryType.Directory, "a/");
                break;
            case "file-then-file-below":
                yield return File_("a");
                yield return File_("a/b");
                break;
            case "directory-then-file":
                yield return new GnuTarEntry(TarEntryType.Directory, "a/");
                yield return File_("a");
                break;
            case "implied-directory-then-file":
                yield return File_("pkg/mod.py");
                yield return File_("pkg");
                break;

            case "dot-slash-directories":
                yield return new GnuTarEntry(TarEntryType.Directory, "./pkg/");
                yield return File_("./pkg/a.py", "a");
                yield return new GnuTarEntry(TarEntryType.Directory, "./pkg/empty/");
                break;
            case "implied-then-explicit-directory":
                yield return File_("pkg/sub/a.py", "a");
                yield return new GnuTarEntry(TarEntryType.Directory, "pkg/");
                yield return new GnuTarEntry(TarEntryType.Directory, "pkg/sub/");
                break;
            case "long-names":
                yield return File_(string.Concat(Enumerable.Repeat("deep/", 30)) + "gnu.py", "gnu");
                yield return new PaxTarEntry(TarEntryType.RegularFile, string.Concat(Enumerable.Repeat("tief/", 30)) + "pax-ü.py") { DataStream = Data("pax") };
                break;
            case "modes":
                yield return File_("run.sh", "#!/bin/sh\n", (UnixFileMode)0b111_101_101);
                yield return File_("setuid.sh", "#!/bin/sh\n", UnixFileMode.SetUser | (UnixFileMode)0b111_111_111);
                yield return File_("group-exec-only.py", "x", (UnixFileMode)0b110_111_111);
                break;
            case "v7-directory-with-slash":
                // Old V7 archives mark a directory only by the trailing slash of a "regular file".
                yield return new V7TarEntry(TarEntryType.V7RegularFile, "v7dir/");
                yield return new V7TarEntry(TarEntryType.V7RegularFile, "v7dir/a.py") { DataStream = Data("v7") };
                break;
            case "colon-names":
                yield return File_("1:x.py", "not a drive");
                yield return File_("pkg/c:x.py", "not a drive either");
                break;
            case "empty-file":
                yield return File_("pkg/__init__.py", "");
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, "not a corpus case");
        }
    }

    private static MemoryStream Data(string content) => new(Encoding.UTF8.GetBytes(content));

    private static GnuTarEntry File_(string name, string content = "evil", UnixFileMode mode = (UnixFileMode)0b110_100_100) =>
        new(TarEntryType.RegularFile, name) { DataStream = Data(content), Mode = mode };

    private static GnuTarEntry Link(TarEntryType type, string name, string target) => new(type, name) { LinkName = target };
}
