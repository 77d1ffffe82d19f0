-- The instance ID of a binding is the URN of its +sip.instance Contact parameter (RFC 5626
-- §4.1), not the parameter's quoted text: bindings written before the registrar unquoted it
-- are brought to the same form, quotes first, then angle brackets.
UPDATE registration SET instance = substr(instance, 2, length(instance) - 2)
	WHERE length(instance) >= 2 AND instance LIKE '"%"';
UPDATE registration SET instance = substr(instance, 2, length(instance) - 2)
	WHERE length(instance) >= 2 AND instance LIKE '<%>';
