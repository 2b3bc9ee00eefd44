using FlyteSharp.Runner;
using FlyteSharp.Tasks;

namespace FlyteSharp.Execution.Python;

/// <summary>The signature check of image-based executors (container, pod) done first with a local interpreter.</summary>
internal static class LocalDescribe
{
    /// <summary>
    /// The pre-run signature check from the same bundle with a local interpreter, which saves a container start
    /// per edit. Only answers it gives for the bundle itself are trusted; when a module fails to import (say, a
    /// package only the image has) or no local Python exists, the check runs in the image instead (null).
    /// </summary>
    public static async Task<IReadOnlyList<PythonFunctionInfo>?> TryAsync(
        PythonExecutorContext context, TaskEnvironment environment, IReadOnlyList<PythonTaskReference> tasks, CancellationToken cancellationToken)
    {
        if (context.Bundle.Digest.Length == 0 || !Directory.Exists(context.Bundle.ExtractedDirectory))
        {
            return null;
        }

        try
        {
            var local = new LocalPythonExecutor(context with { SandboxDirectory = Path.Combine(context.SandboxDirectory, "describe") });
            await using var localDisposal = local.ConfigureAwait(false);
            var infos = await local.DescribeAsync(environment, tasks, cancellationToken).ConfigureAwait(false);
            // ModuleNotFoundError is not trusted: a package __init__ importing an image-only dependency raises it too.
            return infos.All(i => i.Ok || i.ErrorType is "ModuleOutsideBundle" or "FunctionNotFound" or "NotCallable") ? infos : null;
        }
        catch (Exception ex) when (ex is FlyteSharpException or IOException or System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return null;
        }
    }
}
