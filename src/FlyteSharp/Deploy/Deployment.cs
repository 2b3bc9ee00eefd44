using FlyteSharp.Tasks;

namespace FlyteSharp.Deploy;

/// <summary>
/// One environment deployed under a version: the image that carries it, its tasks and resources, and how
/// the container is entered. Recorded in the run store; <c>flytesharp run … --version V</c> runs it.
/// </summary>
/// <param name="Version">The deploy version (a git SHA or tag is recommended).</param>
/// <param name="Environment">The task environment's name.</param>
/// <param name="ImageUri">The image, content-addressed: the tag changes with every change to the code it carries.</param>
/// <param name="CopyStyle"><see cref="CopyStyle.None"/>: the code is in the image (<see cref="CodeDirectory"/>).</param>
/// <param name="Tasks">The environment's tasks at deploy time.</param>
/// <param name="Resources">What each task container gets.</param>
/// <param name="Entry">The command a container of this image runs tasks with (the runner and its code directory).</param>
/// <param name="CodeDirectory">Where the code is in the image (full build), or null.</param>
/// <param name="CreatedAt">When it was deployed.</param>
public sealed record Deployment(
    string Version,
    string Environment,
    string ImageUri,
    CopyStyle CopyStyle,
    IReadOnlyList<DeployedTask> Tasks,
    Resources Resources,
    string Entry,
    string? CodeDirectory,
    DateTimeOffset CreatedAt);
