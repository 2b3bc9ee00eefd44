using FlyteSharp.Tasks;

namespace FlyteSharp.Deploy;

/// <summary>A task as deployed.</summary>
/// <param name="Name">The task's name.</param>
/// <param name="Kind">What the task is written in (stored as <c>python</c> or <c>csharp</c>).</param>
/// <param name="Entry">For Python tasks the function (<c>package.module:function</c>); null for C# tasks.</param>
public sealed record DeployedTask(string Name, TaskKind Kind, string? Entry);
