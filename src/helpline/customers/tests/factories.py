from __future__ import annotations

from decimal import Decimal

import factory
from django.utils import timezone

from helpline.customers.choices import IdentityKind
from helpline.customers.models import Customer, Identity, Order, Organisation


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Faker("company")


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer
        skip_postgeneration_save = True

    name = factory.Faker("name")

    @factory.post_generation
    def email(obj, create, extracted, **kwargs):
        if create:
            address = extracted or f"customer{obj.pk}@example.test"
            Identity.objects.create(
                customer=obj, kind=IdentityKind.EMAIL, value=address.lower(), is_primary=True
            )


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    customer = factory.SubFactory(CustomerFactory)
    reference = factory.Sequence(lambda n: f"A-{1000 + n}")
    product = "Kettle"
    amount = Decimal("49.90")
    ordered_at = factory.LazyFunction(timezone.now)
