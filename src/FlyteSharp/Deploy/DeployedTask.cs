using FlyteSharp.Tasks;

namespace FlyteSharp.Deploy;

/// <summary>A task as deployed.</summary>
/// <param name="Name">The task's name.</param>
/// <param name="Kind">What the task is written in (stored as <c>python</c> or <c>csharp</c>).</param>
/// <param name="Entry">For Python tasks the function (<c>package.module:function</c>); null for C# tasks.</param>
public sealed record DeployedTask(string Name, TaskKind Kind, string? Entry)
{
    /// <summary>
    /// For a C# task of an environment with a .NET image (<c>Image.FromDotnetBase</c>): the assembly file holding its
    /// body (e.g. <c>App.dll</c>), which the .NET worker loads; null for other tasks (they run in the driver).
    /// </summary>
    public string? Assembly { get; init; }

    /// <summary>
    /// The digest of the .NET code bundle stored for this C# task at deploy time, when its image does not carry the
    /// assemblies (no <c>WithDotnetProject</c>); null when they are baked into the image (<c>/opt/flytesharp/app</c>).
    /// </summary>
    public string? BundleDigest { get; init; }

    /// <summary>Where <see cref="BundleDigest"/> was stored (its blob URI in the store of the deploy).</summary>
    public string? BundleUri { get; init; }
}
