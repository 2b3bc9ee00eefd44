using FlyteSharp.Configuration;

namespace FlyteSharp.Images;

/// <summary>What an image is resolved against: configuration (registry, base and uv images), copy style and code root.</summary>
/// <param name="Config">Registry, image name, Python base image and uv image come from here.</param>
/// <param name="CopyStyle">Fast deploy (<see cref="CopyStyle.All"/>, default): <c>WithCodeBundle()</c> is a no-op.
/// Full build (<see cref="CopyStyle.None"/>): it becomes a <c>COPY</c> of the code bundle's files.</param>
/// <remarks>The code bundle's root (full build only) is <see cref="FlyteConfig.RootDir"/>, root_dir's one home.</remarks>
public sealed record ImageResolveOptions(FlyteConfig Config, CopyStyle CopyStyle = CopyStyle.All);
