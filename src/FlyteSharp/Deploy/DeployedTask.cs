namespace FlyteSharp.Deploy;

/// <summary>A task as deployed.</summary>
/// <param name="Name">The task's name.</param>
/// <param name="Kind"><c>python</c> or <c>csharp</c>.</param>
/// <param name="Entry">For Python tasks the function (<c>package.module:function</c>); null for C# tasks.</param>
public sealed record DeployedTask(string Name, string Kind, string? Entry);
