using System.Reflection;
using System.Reflection.Metadata;
using System.Runtime.Loader;

namespace FlyteSharp.Worker;

/// <summary>
/// The caches the framework and the worker's libraries keep about types (System.Text.Json's serializer metadata of every
/// type it has serialized, with every <c>JsonSerializerOptions</c> — FlyteSharp's own and the task's — and its generated
/// accessors): after the user's load context is unloaded they still hold the old code's types and keep the whole context
/// in memory. Each library names such a cache with <see cref="MetadataUpdateHandlerAttribute"/> and a static
/// <c>ClearCache(Type[]?)</c>, the hook <c>dotnet watch</c> calls after an edit; unloading the old code is the same
/// situation, so the worker calls the same hooks. The caches fill again on the new code's first calls.
/// </summary>
internal static class TypeCaches
{
    /// <summary>Empties every type cache of the assemblies shared with user code (the default context's).</summary>
    public static void Clear()
    {
        foreach (var assembly in AssemblyLoadContext.Default.Assemblies.ToArray())
        {
            MetadataUpdateHandlerAttribute[] handlers;
            try
            {
                handlers = [.. assembly.GetCustomAttributes<MetadataUpdateHandlerAttribute>()];
            }
            catch (Exception ex) when (ex is FileNotFoundException or FileLoadException or TypeLoadException or BadImageFormatException)
            {
                continue; // an assembly whose attributes cannot be read has no cache the worker could clear
            }

            foreach (var handler in handlers)
            {
                var clear = handler.HandlerType.GetMethod("ClearCache", BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static, [typeof(Type[])]);
                try
                {
                    clear?.Invoke(null, [null]);
                }
                catch (TargetInvocationException)
                {
                    // A cache that cannot be cleared only keeps the old code in memory longer; the worker notices a context
                    // that outlives its unloading (WorkerSession) and says so, and the new code serves either way.
                }
            }
        }
    }
}
