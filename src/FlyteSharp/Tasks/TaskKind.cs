namespace FlyteSharp.Tasks;

/// <summary>What a task's body is written in.</summary>
public enum TaskKind
{
    /// <summary>A C# delegate, run in-process.</summary>
    CSharp = 0,

    /// <summary>A Python function (<c>module:function</c>) shipped in the code bundle.</summary>
    Python = 1,
}
