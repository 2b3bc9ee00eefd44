using FlyteSharp.Tasks;

namespace FlyteSharp.Execution.Containers;

/// <summary>Gives the image an environment's tasks run in, building it first when its tag is missing.</summary>
internal interface IContainerImageSource
{
    /// <summary>The container runtime's executable (<c>podman</c> or <c>docker</c>).</summary>
    Task<string> RuntimeAsync(CancellationToken cancellationToken);

    /// <summary>The image for <paramref name="environment"/>, ready to run.</summary>
    Task<ContainerImage> GetAsync(TaskEnvironment environment, CancellationToken cancellationToken);
}
