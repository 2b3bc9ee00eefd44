namespace FlyteSharp.Configuration;

/// <summary>Which tool builds images (<c>[images] builder</c>: <c>auto</c>, <c>podman</c> or <c>docker</c>).</summary>
public enum ImageBuilderKind
{
    /// <summary>The first builder that works on this machine: podman, then docker buildx (default).</summary>
    Auto = 0,

    /// <summary>Podman (buildah inside).</summary>
    Podman = 1,

    /// <summary>Docker with buildx.</summary>
    Docker = 2,
}
