using System.Reflection;

namespace FlyteSharp.Cli.Projects;

/// <summary>A value found in a static field or property of a loaded project.</summary>
/// <param name="Member">The field or property.</param>
/// <param name="Value">Its value.</param>
internal sealed record StaticMember<T>(MemberInfo Member, T Value)
{
    /// <summary><c>Namespace.Type.Member</c>, for messages.</summary>
    public string DisplayName => $"{Member.DeclaringType?.FullName}.{Member.Name}";
}
