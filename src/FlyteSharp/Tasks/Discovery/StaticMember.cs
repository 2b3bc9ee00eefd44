using System.Reflection;

namespace FlyteSharp.Tasks.Discovery;

/// <summary>A value found in a static field or property of a loaded assembly.</summary>
/// <param name="Member">The field or property.</param>
/// <param name="Value">Its value.</param>
internal sealed record StaticMember<T>(MemberInfo Member, T Value)
{
    /// <summary><c>Namespace.Type.Member</c>, for messages.</summary>
    public string DisplayName => $"{Member.DeclaringType?.FullName}.{Member.Name}";
}
