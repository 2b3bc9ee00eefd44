using System.Reflection;
using System.Reflection.Metadata;
using System.Text.Json;

namespace FlyteSharp.Worker;

/// <summary>
/// System.Text.Json's caches of type metadata: every <c>JsonSerializerOptions</c> (FlyteSharp's own, which carries task
/// inputs and outputs, and those of the task's own serializer calls) keeps the contracts and generated accessors of each
/// type it has handled, so after the user's load context is unloaded it still holds the old code's records and keeps the
/// whole context in memory. The library empties them in its <see cref="MetadataUpdateHandlerAttribute"/> hook
/// (<c>ClearCache(Type[]?)</c>), which <c>dotnet watch</c> calls after an edit; unloading the old code is the same
/// situation, so the worker calls that hook. The caches fill again on the new code's first calls.
/// </summary>
/// <remarks>
/// Only this library's hook: the framework's other hooks do more than empty a cache (the core library's materializes every
/// type of every loaded assembly, the user's new code included, and switches reflection into hot-reload filtering for the
/// rest of the process), which a long-lived replica must not pay for.
/// </remarks>
internal static class TypeCaches
{
    /// <summary>Empties System.Text.Json's type metadata caches.</summary>
    /// <returns>False when the library has no such hook (the old code then stays in memory until its caches let go).</returns>
    public static bool Clear()
    {
        var clear = typeof(JsonSerializerOptions).Assembly.GetCustomAttributes<MetadataUpdateHandlerAttribute>()
            .Select(handler => handler.HandlerType.GetMethod("ClearCache", BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static, [typeof(Type[])]))
            .FirstOrDefault(method => method is not null);
        if (clear is null)
        {
            return false;
        }

        try
        {
            clear.Invoke(null, [null]);
            return true;
        }
        catch (TargetInvocationException)
        {
            // Emptying a cache failed: the old code only stays in memory longer, which the worker notices and reports
            // (WorkerSession); the new code serves either way.
            return false;
        }
    }
}
