using FlyteSharp.Bundles;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace FlyteSharp.Tests.Worker;

/// <summary>
/// A C# task assembly compiled from source by Roslyn (against the running framework and the FlyteSharp.dll these tests
/// run with), laid out as the SDK's build output (<c>App.dll</c> with its <c>App.deps.json</c>) and packed by the real
/// <see cref="DotnetBundler"/>: the bundle a developer's edit sends to a reusable replica, without an SDK build per edit.
/// </summary>
internal sealed record CompiledTaskBundle(string Archive, string Digest)
{
    public const string AssemblyFile = "App.dll";

    private const string DepsJson = """
        {
          "runtimeTarget": { "name": ".NETCoreApp,Version=v10.0", "signature": "" },
          "targets": { ".NETCoreApp,Version=v10.0": { "App/1.0.0": { "runtime": { "App.dll": {} } } } },
          "libraries": { "App/1.0.0": { "type": "project", "serviceable": false, "sha512": "" } }
        }
        """;

    private static readonly Lazy<MetadataReference[]> References = new(() =>
    {
        var framework = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        return
        [
            .. Directory.EnumerateFiles(framework, "*.dll").Where(IsManaged).Select(f => MetadataReference.CreateFromFile(f)),
            MetadataReference.CreateFromFile(typeof(FlyteSharpException).Assembly.Location),
        ];
    });

    /// <summary>Compiles <paramref name="source"/> into <paramref name="outputDirectory"/> and bundles it into <paramref name="cacheDirectory"/>.</summary>
    public static async Task<CompiledTaskBundle> CreateAsync(string source, string outputDirectory, string cacheDirectory)
    {
        Directory.CreateDirectory(outputDirectory);
        var compilation = CSharpCompilation.Create(
            "App",
            [CSharpSyntaxTree.ParseText(source, new CSharpParseOptions(LanguageVersion.Latest))],
            References.Value,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, optimizationLevel: OptimizationLevel.Release, nullableContextOptions: NullableContextOptions.Enable, deterministic: true));
        var result = compilation.Emit(Path.Combine(outputDirectory, AssemblyFile));
        Assert.True(result.Success, "the test's task source does not compile:\n" + string.Join("\n", result.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error)));
        await File.WriteAllTextAsync(Path.Combine(outputDirectory, "App.deps.json"), DepsJson);
        var bundle = await DotnetBundler.CreateAsync(Path.Combine(outputDirectory, AssemblyFile), new BundleOptions { CacheDirectory = cacheDirectory }, CancellationToken.None);
        return new CompiledTaskBundle(bundle.ArchivePath, bundle.Digest);
    }

    private static bool IsManaged(string file)
    {
        try
        {
            System.Reflection.AssemblyName.GetAssemblyName(file);
            return true;
        }
        catch (BadImageFormatException)
        {
            return false;
        }
    }
}
